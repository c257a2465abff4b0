import Foundation
import Testing
import TrellisCore
@testable import TrellisPluginHost

/// The bundled analyzers as the host calls them: real libraries, opened
/// with dlopen, tokenizing, filtering and batching through ABI 1.4.
@Suite struct AnalyzerPluginTests {
    final class Loaded {
        let deployment: StampedDeployment
        let manager: PluginManager

        init(_ plugins: String) throws {
            deployment = try StampedDeployment()
            manager = PluginManager(configuration: try deployment.configuration("plugins:\n" + plugins), logger: testLogger)
            for status in manager.loadAll() where status.state == .error { throw LoadFailed(status: "\(status)") }
        }

        func instance(_ id: String) throws -> PluginInstance { try #require(manager.instance(id)) }
    }

    struct LoadFailed: Error { var status: String }

    @Test func standardEnglishAndNgramTokenize() throws {
        let loaded = try Loaded("""
              analyzer.standard: { config: { stop_words: [The] } }
              analyzer.english:
              analyzer.ngram: { config: { edge: true, min_gram: 2, max_gram: 4 } }
            """)
        let text = "The Connections of Straße’s runners"
        let standard = try loaded.instance("analyzer.standard").tokens(of: text)
        #expect(standard.map(\.term) == ["connections", "of", "strasse’s", "runners"])
        #expect(standard.map(\.position) == [1, 2, 3, 4], "the stop word leaves its position empty")
        let utf8 = Array(text.utf8)
        #expect(standard.map { String(decoding: utf8[$0.bytes], as: UTF8.self) } == ["Connections", "of", "Straße’s", "runners"])

        let english = try loaded.instance("analyzer.english").tokens(of: text)
        #expect(english.map(\.term) == ["connect", "strass", "runner"], "stop words, possessive, stems")
        #expect(english.map(\.position) == [1, 3, 4])

        let edge = try loaded.instance("analyzer.ngram").tokens(of: "Search a")
        #expect(edge.map(\.term) == ["se", "sea", "sear"], "a word shorter than min_gram is dropped")
        #expect(Set(edge.map(\.position)) == [0])
    }

    @Test func filtersChainAfterATokenizer() throws {
        let loaded = try Loaded("""
              analyzer.regex: { config: { pattern: "[^,;]+", filter: replace, replacement: "" } }
              analyzer.standard:
              analyzer.english: { config: { stop_words: none } }
              analyzer.whitespace:
            """)
        let regex = try loaded.instance("analyzer.regex")
        let text = "Running Fast;Jumped,HIGHER"
        let tokens = try regex.tokens(of: text)
        #expect(tokens.map(\.term) == ["Running Fast", "Jumped", "HIGHER"])
        #expect(try loaded.instance("analyzer.standard").isTokenFilter)
        #expect(try !loaded.instance("analyzer.whitespace").isTokenFilter, "a C analyzer built before filters has none")

        var folded: [AnalyzedToken] = []
        try loaded.instance("analyzer.standard").filter(text, tokens: tokens) { token in
            folded.append(AnalyzedToken(term: String(decoding: token.term, as: UTF8.self), position: token.position, bytes: token.bytes))
            return true
        }
        #expect(folded.map(\.term) == ["running fast", "jumped", "higher"])
        var stemmed: [String] = []
        try loaded.instance("analyzer.english").filter(text, tokens: folded) { token in
            stemmed.append(String(decoding: token.term, as: UTF8.self))
            return true
        }
        #expect(stemmed == ["running fast", "jump", "higher"], "a filter stems what it is given, whole")
        #expect(throws: PluginCallError.self) {
            try loaded.instance("analyzer.whitespace").filter(text, tokens: tokens) { _ in true }
        }
    }

    @Test func regexFiltersKeepAndDrop() throws {
        let loaded = try Loaded("""
              analyzer.regex: { config: { pattern: "^[0-9]+$", filter: drop } }
              analyzer.regex@keep: { config: { pattern: "\\\\p{L}", filter: keep } }
              analyzer.standard:
            """)
        let tokens = try loaded.instance("analyzer.standard").tokens(of: "ticket 4711 für 12 Ärzte")
        func filtered(_ id: String) throws -> [String] {
            var out: [String] = []
            try loaded.instance(id).filter("", tokens: tokens) { token in
                out.append(String(decoding: token.term, as: UTF8.self))
                return true
            }
            return out
        }
        #expect(try filtered("analyzer.regex") == ["ticket", "für", "ärzte"])
        #expect(try filtered("analyzer.regex@keep") == ["ticket", "für", "ärzte"])
    }

    @Test func aBatchTokenizesEveryTextWithItsIndex() throws {
        let loaded = try Loaded("  analyzer.english:\n  analyzer.whitespace:\n")
        let texts = ["first document here", "", "second one", "the third"]
        for id in ["analyzer.english", "analyzer.whitespace"] {
            let analyzer = try loaded.instance(id)
            var batched: [Int: [String]] = [:]
            try analyzer.tokenizeBatch(texts) { index, token in
                batched[index, default: []].append(String(decoding: token.term, as: UTF8.self))
                return true
            }
            for (index, text) in texts.enumerated() {
                #expect(batched[index] ?? [] == (try analyzer.tokens(of: text)).map(\.term), "\(id), text \(index)")
            }
        }
        #expect(try loaded.instance("analyzer.english").tokenizesInBatches)
        #expect(try !loaded.instance("analyzer.whitespace").tokenizesInBatches, "the host loops over tokenize for it")
    }

    /// A pattern that backtracks without bound fails the call at PCRE2's
    /// match limit instead of hanging the host; a bad pattern fails create.
    @Test func aCatastrophicPatternFailsInsteadOfHanging() throws {
        let loaded = try Loaded("  analyzer.regex: { config: { pattern: \"(a+)+$\", match_limit: 100000 } }\n")
        let text = String(repeating: "a", count: 40) + "b"
        #expect {
            _ = try loaded.instance("analyzer.regex").tokens(of: text)
        } throws: { error in
            "\(error)".contains("match limit")
        }
        let deployment = try StampedDeployment()
        let bad = PluginManager(configuration: try deployment.configuration("plugins:\n  analyzer.regex: { config: { pattern: \"(unclosed\" } }\n"),
                                logger: testLogger)
        let status = try #require(bad.loadAll().first { $0.id == "analyzer.regex" })
        #expect(status.errorCode == "create_failed")
        #expect(status.reason?.contains("not a valid PCRE2 pattern") == true, "\(status.reason ?? "")")
    }

    @Test func badNgramSettingsAreRefusedAtCreate() throws {
        let deployment = try StampedDeployment()
        let manager = PluginManager(configuration: try deployment.configuration(
            "plugins:\n  analyzer.ngram: { config: { min_gram: 4, max_gram: 2 } }\n"), logger: testLogger)
        let status = try #require(manager.loadAll().first { $0.id == "analyzer.ngram" })
        #expect(status.reason?.contains("max_gram (2) must be at least min_gram (4)") == true, "\(status.reason ?? "")")
    }
}
