import Foundation
import Testing
import Tuning

@Suite struct EvaluationReportTests {
    func report(_ fixture: MetricFixtures.Case) throws -> EvaluationReport {
        try EvaluationReport(
            test: try fixture.labeledScores(), classNames: fixture.classNames,
            trainingCounts: fixture.trainingCounts, thresholds: fixture.floatThresholds)
    }

    @Test("mAPs and averages match sklearn's numbers, in percent", arguments: MetricFixtures.caseNames)
    func matchesSklearn(caseName: String) throws {
        let fixture = MetricFixtures.named(caseName)
        let report = try report(fixture)
        let percent = { (value: Double?) in value.map { $0 * 100 } }
        #expect(metricsClose(report.map, percent(fixture.map)))
        #expect(metricsClose(report.headMap, percent(fixture.headMap)))
        #expect(metricsClose(report.mediumMap, percent(fixture.mediumMap)))
        #expect(metricsClose(report.tailMap, percent(fixture.tailMap)))
        let expected = fixture.atThresholds
        #expect(metricsClose(report.cp, expected.cp * 100) && metricsClose(report.cr, expected.cr * 100))
        #expect(metricsClose(report.cf1, expected.cf1 * 100))
        #expect(metricsClose(report.op, expected.op * 100) && metricsClose(report.or, expected.or * 100))
        #expect(metricsClose(report.of1, expected.of1 * 100))
        #expect(report.imageCount == fixture.scores.count)
        for (c, row) in report.perClass.enumerated() {
            #expect(row.className == fixture.classNames[c])
            #expect(row.trainingCount == fixture.trainingCounts[c] && row.group == fixture.groups[c])
            #expect(row.threshold == fixture.floatThresholds[c] && row.positives == fixture.positives[c])
            #expect(row.includedInMap == (fixture.positives[c] > 0))
            #expect(metricsClose(row.precision, expected.precision[c] * 100))
            if row.includedInMap {
                #expect(metricsClose(row.ap, fixture.averagePrecision[c] * 100))
                #expect(metricsClose(row.recall, expected.recall[c] * 100) && metricsClose(row.f1, expected.f1[c] * 100))
            } else {
                #expect(row.ap == nil && row.recall == nil && row.f1 == nil)
            }
        }
        #expect(report.excludedClasses == fixture.classNames.indices.filter { fixture.positives[$0] == 0 }.map { fixture.classNames[$0] })
    }

    @Test("JSON uses snake_case keys, writes undefined values as null and decodes back")
    func json() throws {
        let report = try report(MetricFixtures.named("ties"))
        let data = try JSONEncoder().encode(report)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == [
            "map", "head_map", "medium_map", "tail_map", "per_class", "cp", "cr", "cf1", "op", "or", "of1",
            "image_count", "excluded_classes", "group_bounds",
        ])
        let rows = try #require(object["per_class"] as? [[String: Any]])
        #expect(Set(rows[0].keys) == [
            "class", "ap", "count", "group", "threshold", "precision", "recall", "f1", "positives", "included_in_map",
        ])
        #expect(rows[0]["class"] as? String == "ties_0" && rows[0]["group"] as? String == "tail")
        #expect(rows[0]["ap"] is NSNull && rows[0]["included_in_map"] as? Bool == false)
        #expect(rows[2]["count"] as? Int == 250)
        #expect(try JSONDecoder().decode(EvaluationReport.self, from: data) == report)
    }

    @Test("a group without classes has a null mAP; configured bounds regroup")
    func customGroups() throws {
        let fixture = MetricFixtures.named("logits")
        let data = try fixture.labeledScores()
        let bounds = try ClassGroupBounds(headMinimum: 1, mediumMinimum: 0)
        let report = try EvaluationReport(
            test: data, classNames: fixture.classNames, trainingCounts: fixture.trainingCounts,
            thresholds: fixture.floatThresholds, groupBounds: bounds)
        #expect(report.tailMap == nil && report.mediumMap == nil)
        #expect(metricsClose(report.headMap, report.map, 1e-9))
        #expect(report.groupBounds == bounds)
    }

    @Test("mismatched names, counts or thresholds are rejected")
    func badInputs() throws {
        let data = try LabeledScores(scoreRows: [[0.2, 0.1]], labelRows: [[true, false]])
        #expect(throws: TuningError.self) {
            try EvaluationReport(test: data, classNames: ["a"], trainingCounts: [1, 2], thresholds: [0.5, 0.5])
        }
        #expect(throws: TuningError.self) {
            try EvaluationReport(test: data, classNames: ["a", "b"], trainingCounts: [1], thresholds: [0.5, 0.5])
        }
        #expect(throws: TuningError.self) {
            try EvaluationReport(test: data, classNames: ["a", "b"], trainingCounts: [1, 2], thresholds: [0.5])
        }
        #expect(throws: TuningError.self) {
            try EvaluationReport(test: data, classNames: ["a", "b"], trainingCounts: [1, -2], thresholds: [0.5, 0.5])
        }
    }
}
