import Foundation
import Testing
import TrellisCore
@testable import TrellisSearch

/// The engine over real analyzer plugins: BM25 against hand-computed
/// scores, the query syntax, filters, facets, sorting, pages, highlights,
/// suggestions, updates and deletes, and what survives a reopen.
@Suite struct SearchEngineTests {
    static let small = """
        [{"id": "d1", "body": "the quick brown fox"},
         {"id": "d2", "body": "the lazy dog"},
         {"id": "d3", "body": "quick quick dog"}]
        """

    func smallIndex(_ fixture: SearchFixture) throws -> SearchIndex {
        let index = try fixture.engine.create("small", schema: try fixture.schema(#"{"fields": {"body": {"type": "text"}}}"#))
        try index.index(try SearchFixture.documents(Self.small))
        try index.commit()
        return index
    }

    func ids(_ index: SearchIndex, _ query: String) throws -> [String] {
        try index.search(SearchRequest(query: query)).hits.map(\.id)
    }

    /// N = 3, avgdl = 10/3, k1 = 1.2, b = 0.75; idf(quick) = ln(1 + 1.5/2.5).
    @Test func scoresAreBM25AsComputedByHand() throws {
        let fixture = try SearchFixture()
        let index = try smallIndex(fixture)
        let quick = try index.search(SearchRequest(query: "quick"))
        #expect(quick.total == 2)
        #expect(quick.hits.map(\.id) == ["d3", "d1"])
        #expect(abs(quick.hits[0].score - 0.664956903112938) < 1e-9, "d3: tf 2, dl 3")
        #expect(abs(quick.hits[1].score - 0.4344571362775708) < 1e-9, "d1: tf 1, dl 4")
        let both = try index.search(SearchRequest(query: "quick dog"))
        #expect(both.hits.map(\.id) == ["d3", "d2", "d1"])
        #expect(abs(both.hits[0].score - 1.1550080805255534) < 1e-9, "d3 sums its two terms")
        #expect(abs(both.hits[1].score - 0.4900511774126154) < 1e-9)
    }

    @Test func booleanOperators() throws {
        let fixture = try SearchFixture()
        let index = try smallIndex(fixture)
        #expect(try ids(index, "quick AND dog") == ["d3"])
        #expect(try Set(ids(index, "quick OR lazy")) == ["d1", "d2", "d3"])
        #expect(try ids(index, "quick -dog") == ["d1"])
        #expect(try ids(index, "quick NOT brown") == ["d3"])
        #expect(try ids(index, "+dog +lazy") == ["d2"])
        #expect(try Set(ids(index, "(lazy OR brown) AND the")) == ["d1", "d2"])
        #expect(try Set(ids(index, "-quick")) == ["d2"], "only a NOT: everything else")
        var and = SearchRequest(query: "quick dog")
        and.defaultOperator = .and
        #expect(try index.search(and).hits.map(\.id) == ["d3"])
        #expect(try Set(ids(index, "*")) == ["d1", "d2", "d3"])
    }

    @Test func phrasesAndProximity() throws {
        let fixture = try SearchFixture()
        let index = try smallIndex(fixture)
        #expect(try ids(index, "\"quick brown\"") == ["d1"])
        #expect(try ids(index, "\"brown quick\"") == [])
        #expect(try ids(index, "\"quick fox\"") == [], "not adjacent")
        #expect(try ids(index, "\"quick fox\"~1") == ["d1"], "one position off")
        #expect(try ids(index, "\"quick dog\"") == ["d3"])
    }

    @Test func prefixAndFuzzyTerms() throws {
        let fixture = try SearchFixture()
        let index = try smallIndex(fixture)
        #expect(try Set(ids(index, "qui*")) == ["d1", "d3"])
        #expect(try ids(index, "laz*") == ["d2"])
        #expect(try Set(ids(index, "quikc~1")) == ["d1", "d3"], "a transposition is one edit")
        #expect(try ids(index, "quikc") == [], "without ~ a typo matches nothing")
        #expect(try ids(index, "browm~") == ["d1"], "five letters allow one typo by length")
        #expect(try ids(index, "dgo~") == [], "three letters allow none by length")
        #expect(try ids(index, "dgo~1") == ["d2", "d3"], "equal scores come by id")
        #expect(try ids(index, "bron~1") == ["d1"])
    }
}
