import Foundation
import GRDBSQLite
import TrellisCore
import TrellisPluginHost
import TrellisSearch

/// Builds a Trellis index and an SQLite FTS5 table of the same corpus in
/// one process, runs the same queries (top 10, OR of the words) on both,
/// and checks Trellis's top 10 against a plain BM25 written here over the
/// same tokens.
public struct SearchBenchmark: Sendable {
    public struct Figures: Sendable, Codable {
        public var documents: Int
        public var queries: Int
        public var buildSeconds: Double
        public var bytes: Int
        public var p50Milliseconds: Double
        public var p90Milliseconds: Double
        public var p99Milliseconds: Double
    }

    public struct Result: Sendable, Codable {
        public var trellis: Figures
        public var fts5: Figures
        /// Mean share of Trellis's top 10 that the reference BM25's top 10 holds too.
        public var agreement: Double
        public var analyzer: String
    }

    public var corpus: [JSONValue]
    public var queries: [String]
    public var field = "text"

    public init(corpus: [JSONValue], queries: [String]) {
        self.corpus = corpus
        self.queries = queries
    }

    public func run(analyzer: PluginInstance, directory: String, progress: (String) -> Void) throws -> Result {
        let texts = corpus.map { $0[field]?.stringValue ?? "" }
        let ids = corpus.map { value -> String in
            if let text = value["id"]?.stringValue { return text }
            return value["id"]?.intValue.map(String.init) ?? ""
        }

        progress("building the Trellis index")
        let engine = SearchEngine(root: "\(directory)/search") { id in id == analyzer.info.id ? .success(analyzer) : .failure(.analysis("not loaded")) }
        let schema = SearchSchema(fields: [.init(name: field, type: .text, stored: false, analyzer: [analyzer.info.id])])
        let index = try engine.create("bench", schema: schema)
        let buildStart = DispatchTime.now().uptimeNanoseconds
        try index.index(corpus)
        try index.commit()
        let buildSeconds = seconds(since: buildStart)
        let trellisBytes = index.statistics().bytes

        progress("querying the Trellis index")
        var trellisTimes: [Double] = []
        var trellisTop: [[String]] = []
        for query in queries.prefix(20) { _ = try index.search(request(query)) }  // warm
        for query in queries {
            let start = DispatchTime.now().uptimeNanoseconds
            let result = try index.search(request(query))
            trellisTimes.append(seconds(since: start) * 1000)
            trellisTop.append(result.hits.map(\.id))
        }

        progress("building the FTS5 table")
        let fts = try FTS5(path: "\(directory)/fts5.db")
        let ftsBuild = try fts.build(texts)
        progress("querying the FTS5 table")
        var ftsTimes: [Double] = []
        for query in queries.prefix(20) { _ = try fts.top10(query) }
        for query in queries {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try fts.top10(query)
            ftsTimes.append(seconds(since: start) * 1000)
        }
        let ftsBytes = fts.bytes()

        progress("checking the top 10 against a plain BM25")
        let reference = try ReferenceBM25(texts: texts, analyzer: analyzer)
        var agreement = 0.0
        for (number, query) in queries.enumerated() {
            let (top, scores) = try reference.top10(query)
            let expected = Set(top.map { ids[$0] })
            let got = trellisTop[number]
            if expected.isEmpty && got.isEmpty {
                agreement += 1
                continue
            }
            // A document tied with the reference's tenth is as good an answer as the tenth.
            let cut = top.last.flatMap { scores[$0] } ?? 0
            let agreeing = got.filter { id in
                expected.contains(id) || (Int(id).flatMap { scores[$0] }.map { abs($0 - cut) <= 1e-9 * max(1, cut) } ?? false)
            }.count
            agreement += Double(agreeing) / Double(max(expected.count, got.count))
        }
        agreement /= Double(max(1, queries.count))

        func figures(_ times: [Double], build: Double, bytes: Int) -> Figures {
            let sorted = times.sorted()
            func percentile(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
            return Figures(documents: corpus.count, queries: queries.count, buildSeconds: build, bytes: bytes,
                           p50Milliseconds: percentile(0.5), p90Milliseconds: percentile(0.9), p99Milliseconds: percentile(0.99))
        }
        return Result(trellis: figures(trellisTimes, build: buildSeconds, bytes: trellisBytes),
                      fts5: figures(ftsTimes, build: ftsBuild, bytes: ftsBytes), agreement: agreement,
                      analyzer: "\(analyzer.info.id)@\(analyzer.info.version)")
    }

    func request(_ query: String) -> SearchRequest {
        var request = SearchRequest(query: Self.words(query).joined(separator: " "))
        request.limit = 10
        request.highlight = false
        return request
    }

    /// A query's words, with the syntax's own characters left out, so both
    /// engines are asked the same plain words.
    static func words(_ query: String) -> [String] {
        query.split { !$0.isLetter && !$0.isNumber }.map { String($0).lowercased() }
    }

    func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

    /// A synthetic corpus with a natural distribution of words: each
    /// document a headword and a short gloss whose words follow Zipf's law
    /// over a word list; and queries of 1–3 words drawn the same way.
    public static func generate(documents: Int, queries: Int, words: [String], seed: UInt64 = 42) -> ([JSONValue], [String]) {
        var random = SplitMix(seed: seed)
        let vocabulary = words.isEmpty ? (0..<5000).map { "w\($0)" } : words
        // Zipf over ranks: the cumulative weights of 1/rank^1.07.
        var cumulative: [Double] = []
        var sum = 0.0
        for rank in 1...vocabulary.count {
            sum += 1 / pow(Double(rank), 1.07)
            cumulative.append(sum)
        }
        func word() -> String {
            let target = random.unit() * sum
            var low = 0, high = cumulative.count - 1
            while low < high {
                let middle = (low + high) / 2
                if cumulative[middle] < target { low = middle + 1 } else { high = middle }
            }
            return vocabulary[low]
        }
        var corpus: [JSONValue] = []
        corpus.reserveCapacity(documents)
        for number in 0..<documents {
            let headword = vocabulary[Int(random.next() % UInt64(vocabulary.count))]
            let gloss = (0..<(4 + Int(random.next() % 12))).map { _ in word() }.joined(separator: " ")
            corpus.append(.object(["id": .number(Double(number)), "text": .string("\(headword): \(gloss)")]))
        }
        let queryList = (0..<queries).map { _ in (0..<(1 + Int(random.next() % 3))).map { _ in word() }.joined(separator: " ") }
        return (corpus, queryList)
    }
}

/// SplitMix64: a small, fast, seeded generator, so a corpus is the same on every machine.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

/// An SQLite FTS5 table with the unicode61 tokenizer (words of letters and
/// digits, folded to lower case): what the standard analyzer does to the
/// same text.
final class FTS5 {
    let path: String
    private var db: OpaquePointer?
    private var query: OpaquePointer?

    init(path: String) throws {
        self.path = path
        guard sqlite3_open(path, &db) == SQLITE_OK else { throw BenchError("cannot open \(path)") }
        try exec("PRAGMA journal_mode = WAL")
        try exec("PRAGMA synchronous = NORMAL")
        try exec("CREATE VIRTUAL TABLE docs USING fts5(text, tokenize = 'unicode61')")
    }

    deinit {
        sqlite3_finalize(query)
        sqlite3_close(db)
    }

    func exec(_ sql: String) throws {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else { throw BenchError(String(cString: sqlite3_errmsg(db))) }
    }

    /// Inserts every text in one transaction; seconds taken.
    func build(_ texts: [String]) throws -> Double {
        var insert: OpaquePointer?
        guard sqlite3_prepare_v2(db, "INSERT INTO docs (rowid, text) VALUES (?, ?)", -1, &insert, nil) == SQLITE_OK else {
            throw BenchError(String(cString: sqlite3_errmsg(db)))
        }
        defer { sqlite3_finalize(insert) }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        let start = DispatchTime.now().uptimeNanoseconds
        try exec("BEGIN")
        for (number, text) in texts.enumerated() {
            sqlite3_bind_int64(insert, 1, Int64(number))
            sqlite3_bind_text(insert, 2, text, -1, transient)
            guard sqlite3_step(insert) == SQLITE_DONE else { throw BenchError(String(cString: sqlite3_errmsg(db))) }
            sqlite3_reset(insert)
        }
        try exec("COMMIT")
        try exec("PRAGMA wal_checkpoint(TRUNCATE)")
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    func top10(_ text: String) throws -> [Int64] {
        if query == nil {
            guard sqlite3_prepare_v2(db, "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT 10", -1, &query, nil) == SQLITE_OK else {
                throw BenchError(String(cString: sqlite3_errmsg(db)))
            }
        }
        let words = SearchBenchmark.words(text)
        guard !words.isEmpty else { return [] }
        let match = words.map { "\"\($0)\"" }.joined(separator: " OR ")
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        sqlite3_bind_text(query, 1, match, -1, transient)
        var rows: [Int64] = []
        while sqlite3_step(query) == SQLITE_ROW { rows.append(sqlite3_column_int64(query, 0)) }
        sqlite3_reset(query)
        return rows
    }

    func bytes() -> Int {
        ["", "-wal", "-shm"].reduce(0) { total, suffix in
            total + (((try? FileManager.default.attributesOfItem(atPath: path + suffix))?[.size] as? NSNumber)?.intValue ?? 0)
        }
    }
}

/// BM25 the plainest way, over the same analyzer's tokens: every document's
/// term counts in a dictionary, every query scored against every document
/// holding one of its terms. The yardstick for the engine's top 10.
struct ReferenceBM25 {
    var postings: [String: [(doc: Int, tf: Int)]] = [:]
    var lengths: [Int] = []
    var average = 0.0
    let analyzer: PluginInstance

    init(texts: [String], analyzer: PluginInstance) throws {
        self.analyzer = analyzer
        for (doc, text) in texts.enumerated() {
            var counts: [String: Int] = [:]
            let tokens = try analyzer.tokens(of: text)
            for token in tokens { counts[token.term, default: 0] += 1 }
            for (term, tf) in counts { postings[term, default: []].append((doc, tf)) }
            lengths.append(tokens.count)
        }
        average = Double(lengths.reduce(0, +)) / Double(max(1, lengths.count))
    }

    /// The ten best documents, and every document's score.
    func top10(_ query: String) throws -> ([Int], [Int: Double]) {
        var scores: [Int: Double] = [:]
        let n = Double(lengths.count)
        var terms: Set<String> = []
        for word in SearchBenchmark.words(query) {
            for token in try analyzer.tokens(of: word) { terms.insert(token.term) }
        }
        for term in terms {
            guard let list = postings[term] else { continue }
            let df = Double(list.count)
            let idf = log(1 + (n - df + 0.5) / (df + 0.5))
            for (doc, tf) in list {
                let frequency = Double(tf)
                scores[doc, default: 0] += idf * frequency * 2.2 / (frequency + 1.2 * (0.25 + 0.75 * Double(lengths[doc]) / average))
            }
        }
        let top = scores.sorted { $0.value != $1.value ? $0.value > $1.value : String($0.key) < String($1.key) }.prefix(10).map(\.key)
        return (top, scores)
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
