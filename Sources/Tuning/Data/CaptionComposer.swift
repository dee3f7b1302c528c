/// Composes a caption from an image's labels when the dataset gives none, so LMPT's caption loss
/// still applies: "a photo of a dog.", "a photo of a dog and a person.",
/// "a photo of a dog, a person and a car.".
public enum CaptionComposer {
    /// The caption for labels given by name, in the order given; "a photo." for no labels.
    public static func caption(for labels: [String]) -> String {
        let phrases = labels.map(withArticle)
        switch phrases.count {
        case 0: return "a photo."
        case 1: return "a photo of \(phrases[0])."
        default:
            let head = phrases.dropLast().joined(separator: ", ")
            return "a photo of \(head) and \(phrases[phrases.count - 1])."
        }
    }

    /// "a dog", "an apple", "an hour", "a unicorn": the article follows the sound of the first word.
    public static func withArticle(_ noun: String) -> String {
        "\(article(for: noun)) \(noun)"
    }

    /// "a" or "an" for `noun`, by spelling with the common English exceptions.
    public static func article(for noun: String) -> String {
        let word = noun.lowercased().prefix(while: { $0.isLetter || $0.isNumber })
        guard let first = word.first else { return "a" }
        // Vowel letters that sound like a consonant ("you", "won") take "a".
        if consonantSoundPrefixes.contains(where: { word.hasPrefix($0) }) { return "a" }
        // A silent "h" ("hour", "honest") sounds like a vowel.
        if silentHPrefixes.contains(where: { word.hasPrefix($0) }) { return "an" }
        if "aeiou".contains(first) { return "an" }
        // Numbers read as words: "an 8-ball", "an 11", "an 18".
        if first == "8" || word == "11" || word == "18" { return "an" }
        return "a"
    }

    private static let consonantSoundPrefixes = [
        "uni", "use", "usu", "uti", "uku", "ufo", "eu", "ewe", "one", "once",
    ]
    private static let silentHPrefixes = ["hour", "honest", "honor", "honour", "heir"]
}
