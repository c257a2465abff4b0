import Foundation
import Testing
import TrellisCore
@testable import TrellisSearch

/// The top-k pruning of OR queries returns what scoring every matching
/// document returns: the same scores place by place, and the same documents
/// but where two scores tie (the two sum a document's terms in different
/// orders, so a tie can differ in its last bit), over several segments,
/// deletions and a filter.
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
            #expect(fast.hits.count == full.hits.count, "\(query)")
            func tied(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-9 * max(1, abs(b)) }
            let fullScores = Dictionary(full.hits.map { ($0.id, $0.score) }, uniquingKeysWith: { a, _ in a })
            for (place, (a, b)) in zip(fast.hits, full.hits).enumerated() {
                #expect(tied(a.score, b.score), "\(query): place \(place) scores \(a.score), not \(b.score)")
                if a.id != b.id {
                    // Another document in this place only when the two tie, and one the full list holds tied, or that ties the cut.
                    let other = fullScores[a.id]
                    #expect(other.map { tied($0, b.score) } ?? tied(a.score, full.hits.last!.score), "\(query): place \(place): \(a.id) for \(b.id)")
                }
            }
            #expect(fast.total <= full.total)
            if fast.totalIsExact { #expect(fast.total == full.total, "\(query): an exact total is the total") } else { prunedSomewhere = true }
        }
        #expect(prunedSomewhere, "common words made the pruning skip documents")
    }
}
