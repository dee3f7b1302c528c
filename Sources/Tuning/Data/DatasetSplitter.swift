/// Turns a training dataset and a `ValidationSplit` into the datasets a tuning job trains and validates on.
public enum DatasetSplitter {
    /// Training and validation datasets. A given validation set must have the same class names as
    /// the training set (a `DatasetValidationError` names the differences); a held-out one is drawn by
    /// `HeldOutSplit` (a `TuningError` for a bad fraction or too few images).
    public static func split(_ dataset: Dataset, using split: ValidationSplit) throws
        -> (training: Dataset, validation: Dataset) {
        switch split {
        case .given(let validation):
            return (dataset, try matchingClasses(validation, to: dataset.classes))
        case .folds:
            return (dataset, dataset.subset([]))
        case .heldOut(let fraction, let seed):
            let parts = try HeldOutSplit(annotations: dataset.annotations, fraction: fraction, seed: seed)
            return (dataset.subset(parts.training), dataset.subset(parts.validation))
        }
    }

    /// `validation` with its labels numbered as in `classes`, or the list of classes that differ.
    static func matchingClasses(_ validation: Dataset, to classes: [String]) throws(DatasetValidationError)
        -> Dataset {
        if validation.classes == classes { return validation }
        let trainingSet = Set(classes)
        let validationSet = Set(validation.classes)
        var problems: [DatasetProblem] = []
        for name in classes where !validationSet.contains(name) {
            problems.append(DatasetProblem(file: ClassListParser.fileName, field: name,
                                           message: "training class is missing from the validation dataset"))
        }
        for name in validation.classes where !trainingSet.contains(name) {
            problems.append(DatasetProblem(file: ClassListParser.fileName, field: name,
                                           message: "validation class is not a class of the training dataset"))
        }
        if !problems.isEmpty { throw DatasetValidationError(problems: problems) }
        return validation.reordered(to: classes)
    }
}
