import Foundation
import Testing
import TrellisCore
@testable import TrellisSearch

/// Fields and boosts, filters, facets, sorting, pages, highlights,
/// suggestions, updates and deletes, reopening, and refusals.
@Suite struct SearchFeatureTests {
    static let schema = """
        {"fields": {
          "title": {"type": "text", "analyzer": ["analyzer.english"], "boost": 2},
          "body": {"type": "text", "analyzer": ["analyzer.standard", "analyzer.english"]},
          "status": {"type": "keyword"},
          "took": {"type": "number"},
          "at": {"type": "date"}}}
        """
    static let runs = """
        [{"id": "r1", "title": "Nightly backup", "body": "The backup step timed out calling channel.slack", "status": "failed", "took": 31.5, "at": "2026-11-30T02:00:00Z"},
         {"id": "r2", "title": "Deploy web", "body": "Deployed in two minutes; slack notified", "status": "succeeded", "took": 120, "at": "2026-11-30T10:00:00Z"},
         {"id": "r3", "title": "Timeouts everywhere", "body": "Every step timed out", "status": "failed", "took": 600, "at": "2026-12-01T10:00:00Z"},
         {"id": "r4", "title": "Report", "body": "Weekly report mailed", "status": ["succeeded", "slow"], "took": 5, "at": 1764547200},
         {"id": "r5", "title": "Backup restore drill", "body": "Restored the backup; timing fine", "status": "succeeded"}]
        """

    func runsIndex(_ fixture: SearchFixture) throws -> SearchIndex {
        let index = try fixture.engine.create("runs", schema: try fixture.schema(Self.schema))
        try index.index(try SearchFixture.documents(Self.runs))
        try index.commit()
        return index
    }

    func ids(_ index: SearchIndex, _ request: SearchRequest) throws -> [String] { try index.search(request).hits.map(\.id) }

    @Test func fieldsStemmingAndBoosts() throws {
        let fixture = try SearchFixture()
        let index = try runsIndex(fixture)
        #expect(try ids(index, SearchRequest(query: "timeout")) .first == "r3", "title's boost: 'Timeouts' in the title wins")
        #expect(try Set(ids(index, SearchRequest(query: "body:timed"))) == ["r1", "r3", "r5"], "timed and timing both stem to time")
        #expect(try ids(index, SearchRequest(query: "title:backup")).sorted() == ["r1", "r5"])
        #expect(try ids(index, SearchRequest(query: "status:failed")).sorted() == ["r1", "r3"], "a keyword field matches whole values")
        #expect(try ids(index, SearchRequest(query: "timed AND status:failed")).sorted() == ["r1", "r3"])
        #expect(try ids(index, SearchRequest(query: "channel.slack")) == ["r1"], "a dotted word is one word (UAX #29)")
        var onlyTitles = SearchRequest(query: "backup")
        onlyTitles.fields = ["title"]
        #expect(try ids(index, onlyTitles).sorted() == ["r1", "r5"])
    }

    @Test func filtersFacetsSortingAndPages() throws {
        let fixture = try SearchFixture()
        let index = try runsIndex(fixture)
        var request = SearchRequest(query: "*")
        request.filters = [.equals(field: "status", values: ["succeeded"])]
        request.facets = ["status"]
        request.sort = [SortKey(field: "took", descending: true)]
        let result = try index.search(request)
        #expect(result.total == 3)
        #expect(result.hits.map(\.id) == ["r2", "r4", "r5"], "by took, descending; r5 has none and comes last")
        #expect(result.facets["status"] == [FacetCount(value: "succeeded", count: 3), FacetCount(value: "slow", count: 1)])

        var range = SearchRequest(query: "*")
        range.filters = [.range(field: "took", lower: 30, upper: 600, includeLower: true, includeUpper: false)]
        #expect(try ids(index, range).sorted() == ["r1", "r2"])
        var dates = SearchRequest(query: "*")
        dates.filters = [.range(field: "at", lower: SearchIndex.date(.string("2026-11-30T05:00:00Z")), upper: nil)]
        dates.sort = [SortKey(field: "at")]
        #expect(try ids(index, dates) == ["r2", "r3"], "r4's date is 2025-12-01, given as seconds")

        var page = SearchRequest(query: "*")
        page.sort = [SortKey(field: "took")]
        page.limit = 2
        page.offset = 1
        let second = try index.search(page)
        #expect(second.total == 5)
        #expect(second.hits.map(\.id) == ["r1", "r2"])
    }

    @Test func highlightsMarkTheMatchesWithTheirByteRanges() throws {
        let fixture = try SearchFixture()
        let index = try runsIndex(fixture)
        let hit = try #require(try index.search(SearchRequest(query: "backup timed")).hits.first { $0.id == "r1" })
        let body = try #require(hit.highlights["body"])
        #expect(body.snippet == "The <mark>backup</mark> step <mark>timed</mark> out calling channel.slack")
        let text = Array("The backup step timed out calling channel.slack".utf8)
        #expect(body.ranges.map { String(decoding: text[$0], as: UTF8.self) } == ["backup", "timed"])
        #expect(hit.highlights["title"]?.snippet == "Nightly <mark>backup</mark>")
        #expect(hit.fields["status"] == .string("failed"), "stored fields come with the hit")
    }

    @Test func longTextsGetASnippetAroundTheMatches() throws {
        let fixture = try SearchFixture()
        let index = try fixture.engine.create("long", schema: try fixture.schema(#"{"fields": {"body": {"type": "text"}}}"#))
        let filler = Array(repeating: "lorem ipsum dolor", count: 40).joined(separator: " ")
        try index.index([.object(["id": "x", "body": .string(filler + " the needle is here " + filler)])])
        try index.commit()
        var request = SearchRequest(query: "needle")
        request.snippetLength = 40
        let snippet = try #require(try index.search(request).hits.first?.highlights["body"]?.snippet)
        #expect(snippet.contains("<mark>needle</mark>"))
        #expect(snippet.hasPrefix("…") && snippet.hasSuffix("…"))
        #expect(snippet.count < 140, "\(snippet)")
    }

    @Test func didYouMeanAndAutocomplete() throws {
        let fixture = try SearchFixture()
        let index = try runsIndex(fixture)
        let missed = try index.search(SearchRequest(query: "bakup"))
        #expect(missed.total == 0)
        #expect(missed.suggestion == "backup")
        #expect(try index.search(SearchRequest(query: "backup")).suggestion == nil)
        let completions = try index.suggest(prefix: "ba", field: "title")
        #expect(completions.first == FacetCount(value: "backup", count: 2))
    }

    @Test func updatesDeletesAndReopening() throws {
        let fixture = try SearchFixture()
        let index = try runsIndex(fixture)
        try index.index([.object(["id": "r2", "title": "Deploy api", "body": "rolled back", "status": "failed"])])
        try index.delete(ids: ["r4"])
        #expect(try index.search(SearchRequest(query: "report")).total == 1, "uncommitted changes are not seen")
        let summary = try index.commit()
        #expect(summary.added == 1)
        #expect(summary.deleted == 2, "r2's old copy and r4")
        #expect(try index.search(SearchRequest(query: "report")).total == 0)
        #expect(try index.search(SearchRequest(query: "rolled")).hits.map(\.id) == ["r2"])
        #expect(try index.search(SearchRequest(query: "minutes")).total == 0, "the old r2 is gone")

        // Another engine over the same folder sees the same commit.
        let reopened = try SearchEngine(root: fixture.engine.root, plugins: fixture.plugins).index("runs")
        #expect(reopened.statistics().documents == 4)
        #expect(reopened.statistics().deleted == 2)
        #expect(try reopened.search(SearchRequest(query: "rolled")).hits.map(\.id) == ["r2"])
        try reopened.merge()
        #expect(reopened.statistics().segments == 1)
        #expect(reopened.statistics().deleted == 0)
        #expect(try reopened.search(SearchRequest(query: "backup")).total == 2)
    }

    @Test func refusalsSayWhatIsWrong() throws {
        let fixture = try SearchFixture()
        let index = try runsIndex(fixture)
        func refusal(_ query: String) -> String {
            do {
                _ = try index.search(SearchRequest(query: query))
                return "accepted"
            } catch {
                return error.description
            }
        }
        #expect(refusal("\"unclosed").contains("at character 1: this quote is never closed"))
        #expect(refusal("(a OR b").contains("this '(' is never closed"))
        #expect(refusal("a OR").contains("'OR' has nothing after it"))
        #expect(refusal("tittle:backup").contains("no field 'tittle' in the index (did you mean 'title'?)"))
        #expect(refusal("took:5").contains("'took' is a number field"))
        #expect(refusal("a~3").contains("at most 2"))
        #expect(refusal(Array(repeating: "ba~2", count: 17).joined(separator: " ")).contains("more than 16 prefix or fuzzy words"))
        #expect(refusal(String(repeating: "x", count: 5000)).contains("more than 4096"))
        var sort = SearchRequest(query: "*")
        sort.sort = [SortKey(field: "body")]
        #expect(throws: SearchError.self) { try index.search(sort) }
        #expect(throws: SearchError.indexExists("runs")) { try fixture.engine.create("runs", schema: try fixture.schema(Self.schema)) }
        #expect { try index.index([.object(["title": "no id"])]) } throws: { "\($0)".contains("has no 'id'") }
        #expect { try index.index([.object(["id": "x", "took": "fast"])]) } throws: { "\($0)".contains("field took is a number") }
        #expect { try fixture.engine.index("nothere") } throws: { "\($0)".contains("no search index 'nothere' (there are: runs)") }
        #expect(throws: SearchError.self) { try SearchSchema.parse(.object(["fields": .object(["x": .object(["type": "txt"])])])) }
    }

    /// A chain whose second link is no filter, and a missing analyzer, are
    /// refused when the index is made.
    @Test func analyzerChainsAreCheckedAtCreate() throws {
        let fixture = try SearchFixture()
        #expect {
            try fixture.engine.create("a", schema: try fixture.schema(#"{"fields": {"b": {"type": "text", "analyzer": ["analyzer.standard", "analyzer.whitespace"]}}}"#))
        } throws: { "\($0)".contains("analyzer.whitespace is not a token filter") }
        #expect {
            try fixture.engine.create("a", schema: try fixture.schema(#"{"fields": {"b": {"type": "text", "analyzer": ["analyzer.regex"]}}}"#))
        } throws: { "\($0)".contains("field 'b' is analyzed by analyzer.regex, which is not loaded") }
    }

    /// The Swift filter the search page shows, built as a fixture, as the
    /// second link of a chain.
    @Test func theDocumentedSwiftFilterWorksInAChain() throws {
        let fixture = try SearchFixture(plugins: "plugins:\n  analyzer.standard:\n  analyzer.short-words:\n", extraManifests: [
            ("analyzer.short-words", "libTrellisFixtureShortWordFilter.so"),
        ])
        let index = try fixture.engine.create("short", schema: try fixture.schema(
            #"{"fields": {"body": {"type": "text", "analyzer": ["analyzer.standard", "analyzer.short-words"]}}}"#))
        try index.index([.object(["id": "1", "body": "A cat is on the mat"])])
        try index.commit()
        #expect(try index.search(SearchRequest(query: "cat")).total == 1)
        #expect(try index.search(SearchRequest(query: "is OR on OR a")).total == 0)
    }

    /// A document of 2 MB in one field and one of a thousand tiny fields:
    /// both indexed, found, and the first one's snippet stays short.
    @Test func largeAndOddDocumentsAreHandled() throws {
        let fixture = try SearchFixture()
        let index = try fixture.engine.create("large", schema: try fixture.schema(#"{"fields": {"body": {"type": "text"}}}"#))
        let words = (0..<200_000).map { "w\($0 % 5000)" }.joined(separator: " ")
        var extra: [String: JSONValue] = ["id": "many", "body": "needle in many"]
        for number in 0..<1000 { extra["f\(number)"] = .string("x") }
        try index.index([.object(["id": "big", "body": .string(words + " needle")]), .object(extra)])
        try index.commit()
        let result = try index.search(SearchRequest(query: "needle"))
        #expect(Set(result.hits.map(\.id)) == ["big", "many"])
        let snippet = try #require(result.hits.first { $0.id == "big" }?.highlights["body"]?.snippet)
        #expect(snippet.count < 400 && snippet.contains("<mark>needle</mark>"), "\(snippet.prefix(80))")
        #expect(try index.search(SearchRequest(query: "w4999")).hits.first?.id == "big")
    }
}
