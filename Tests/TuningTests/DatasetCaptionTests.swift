import Testing
@testable import Tuning

@Suite("Captions composed from labels")
struct DatasetCaptionTests {
    @Test(arguments: [
        ([], "a photo."),
        (["dog"], "a photo of a dog."),
        (["dog", "person"], "a photo of a dog and a person."),
        (["dog", "person", "car"], "a photo of a dog, a person and a car."),
        (["apple", "elephant", "umbrella", "orange"], "a photo of an apple, an elephant, an umbrella and an orange."),
        (["traffic light", "aeroplane"], "a photo of a traffic light and an aeroplane."),
    ])
    func composesWithArticlesAndCommas(labels: [String], expected: String) {
        #expect(CaptionComposer.caption(for: labels) == expected)
    }

    @Test(arguments: [
        ("hour glass", "an"), ("honest man", "an"), ("unicorn", "a"), ("user", "a"), ("european bird", "a"),
        ("one-way sign", "a"), ("umbrella", "an"), ("Oven", "an"), ("horse", "a"), ("8-ball", "an"),
        ("tvmonitor", "a"), ("", "a"),
    ])
    func picksTheArticleBySound(noun: String, article: String) {
        #expect(CaptionComposer.article(for: noun) == article)
    }

    @Test func datasetsComposeOnlyWhereNoCaptionIsGiven() throws {
        let annotations = try DatasetAnnotations(classes: ["cat", "owl"], items: [
            DatasetItem(image: "a.jpg", labels: [1, 0]),
            DatasetItem(image: "b.jpg", labels: [0], caption: "a cat asleep"),
        ])
        #expect(annotations.caption(of: annotations.items[0]) == "a photo of an owl and a cat.")
        #expect(annotations.caption(of: annotations.items[1]) == "a cat asleep")
    }
}
