import Foundation
import Testing
import TrellisCore
@testable import TrellisSearch

/// The top-k pruning of OR queries returns exactly what scoring every
/// matching document returns: the same documents in the same order with
/// the same scores, over several segments, deletions and a filter.
@Suite struct TopKPruningTests {
    @Test func prunedTopKEqualsTheExhaustiveOne() throws {
        let fixture = try SearchFixture()
        let index = try fixture.engine.create("zipf", schema: try fixture.schema(
            #"{"fields": {"text": {"type": "text"}, "title": {"type": "text", "boost": 2}, "kind": {"type": "keyword"}}}"#))
        let words = (0..<400).map { "w\($0)" }
        var random = SystemRandomNumberGenerator()
        func word() -> String {
            // Roughly Zipf: small numbers are far more frequent.
            let x = Double.random(in: 0..<1, using: &random)
            return words[min(words.count - 1, Int(pow(x, 3) * Double(words.count)))]
        }
        for batch in 0..<3 {
            let documents: [JSONValue] = (0..<1500).map { number in
                let text = (0..<Int.random(in: 3...25, using: &random)).map { _ in word() }.joined(separator: " ")
                return .object(["id": .string("b\(batch)-\(number)"), "text": .string(text), "title": .string(word()),
                                "kind": .string(number % 3 == 0 ? "a" : "b")])
            }
            try index.index(documents)
            try index.commit()
        }
        index.delete(ids: (0..<200).map { "b1-\($0 * 5)" })
        try index.commit()
        var prunedSomewhere = false
        for round in 0..<150 {
            let query = (0..<Int.random(in: 1...4, using: &random)).map { _ in word() }.joined(separator: " ")
            var pruned = SearchRequest(query: query)
            pruned.limit = [1, 5, 10, 30][round % 4]
            pruned.offset = round % 7 == 0 ? 3 : 0
            pruned.highlight = false
            if round % 5 == 0 { pruned.filters = [.equals(field: "kind", values: ["a"])] }
            var exhaustive = pruned
            exhaustive.exhaustive = true
            let fast = try index.search(pruned), full = try index.search(exhaustive)
            #expect(fast.hits.map(\.id) == full.hits.map(\.id), "\(query): the same documents in the same order")
            for (a, b) in zip(fast.hits, full.hits) { #expect(abs(a.score - b.score) < 1e-9 * max(1, b.score), "\(query)") }
            #expect(fast.total <= full.total)
            if fast.totalIsExact { #expect(fast.total == full.total, "\(query): an exact total is the total") } else { prunedSomewhere = true }
        }
        #expect(prunedSomewhere, "common words made the pruning skip documents")
    }
}
