import Testing
import Tuning

/// Head / medium / tail mAP (the grouping itself is `ClassGroupBounds`', in Data/).
@Suite struct EvaluationGroupMapTests {
    @Test("group mAPs match sklearn's APs averaged per group", arguments: MetricFixtures.caseNames)
    func groupMeans(caseName: String) throws {
        let fixture = MetricFixtures.named(caseName)
        let groups = ClassGroupBounds.default.groups(of: fixture.trainingCounts)
        #expect(groups == fixture.groups)
        let result = MeanAveragePrecision(try fixture.labeledScores())
        #expect(metricsClose(try result.mean(of: .head, groups: groups), fixture.headMap))
        #expect(metricsClose(try result.mean(of: .medium, groups: groups), fixture.mediumMap))
        #expect(metricsClose(try result.mean(of: .tail, groups: groups), fixture.tailMap))
    }

    @Test("the fixtures put classes on every boundary: 100 head, 99 and 20 medium, 19 tail")
    func fixtureBoundaries() throws {
        let fixture = MetricFixtures.named("ties")
        let byCount = Dictionary(zip(fixture.trainingCounts, fixture.groups), uniquingKeysWith: { first, _ in first })
        #expect(byCount[100] == .head && byCount[99] == .medium && byCount[20] == .medium && byCount[19] == .tail)
    }

    @Test("a group with no class, or none with a positive, has no mean")
    func emptyGroup() throws {
        let result = MeanAveragePrecision(perClass: [0.5, nil, 0.25])
        #expect(try result.mean(of: .head, groups: [.head, .medium, .head]) == 0.375)
        #expect(try result.mean(of: .medium, groups: [.head, .medium, .head]) == nil)
        #expect(try result.mean(of: .tail, groups: [.head, .medium, .head]) == nil)
        #expect(throws: TuningError.self) { try result.mean(of: .tail, groups: [.head]) }
    }

    @Test("mean over chosen classes leaves out those without a positive")
    func meanOverClasses() {
        let result = MeanAveragePrecision(perClass: [0.5, nil, 0.25, 1])
        #expect(result.map == 0.5833333333333334)
        #expect(result.mean(over: [0, 1]) == 0.5)
        #expect(result.mean(over: [1]) == nil)
        #expect(result.excludedClasses == [1])
    }
}
