import Foundation
import Testing
@testable import Tuning

@Suite("Class groups and dataset summaries")
struct DatasetGroupTests {
    @Test func groupsByTrainingCountWithTheDefaultBounds() {
        let counts = [0, 19, 20, 99, 100, 775]
        #expect(ClassGroupBounds.default.groups(of: counts) == [.tail, .tail, .medium, .medium, .head, .head])
    }

    @Test func boundsAreConfigurableAndChecked() throws {
        let bounds = try ClassGroupBounds(headMinimum: 50, mediumMinimum: 5)
        #expect(bounds.groups(of: [4, 5, 49, 50]) == [.tail, .medium, .medium, .head])
        #expect(throws: TuningError.self) { try ClassGroupBounds(headMinimum: 10, mediumMinimum: 20) }
        let decoded = try JSONDecoder().decode(ClassGroupBounds.self,
                                               from: Data(#"{"head_minimum": 30, "medium_minimum": 3}"#.utf8))
        #expect(decoded == (try ClassGroupBounds(headMinimum: 30, mediumMinimum: 3)))
        #expect(throws: (any Error).self) {
            try JSONDecoder().decode(ClassGroupBounds.self, from: Data(#"{"head_minimum": 3, "medium_minimum": 30}"#.utf8))
        }
    }

    @Test func groupsEncodeAsTheirNames() throws {
        #expect(ClassGroup.allCases.map(\.rawValue) == ["head", "medium", "tail"])
        let json = try JSONEncoder().encode([ClassGroup.head, .medium, .tail])
        #expect(String(decoding: json, as: UTF8.self) == #"["head","medium","tail"]"#)
        #expect(try JSONDecoder().decode([ClassGroup].self, from: Data(#"["tail"]"#.utf8)) == [.tail])
    }

    @Test func summarisesCountsGroupsAndCaptions() throws {
        let items = (0..<120).map { index in
            DatasetItem(image: "\(index).jpg", labels: index < 25 ? [0, 1] : [0],
                        caption: index.isMultiple(of: 2) ? "caption \(index)" : nil)
        }
        let annotations = try DatasetAnnotations(classes: ["person", "dog", "yak"], items: items)
        let summary = DatasetSummary(annotations: annotations)
        #expect(summary.imageCount == 120)
        #expect(summary.captionedImageCount == 60)
        #expect(summary.labelCount == 145)
        #expect(summary.classes.map(\.count) == [120, 25, 0])
        #expect(summary.classes.map(\.group) == [.head, .medium, .tail])
        #expect(summary.groupSizes == ClassGroupSizes(head: 1, medium: 1, tail: 1))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(summary), as: UTF8.self)
        #expect(json.contains(#""group_sizes":{"head":1,"medium":1,"tail":1}"#))
        #expect(json.contains(#"{"count":25,"group":"medium","name":"dog"}"#))
        #expect(try JSONDecoder().decode(DatasetSummary.self, from: Data(json.utf8)) == summary)
    }
}
