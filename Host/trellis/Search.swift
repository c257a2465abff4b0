import ArgumentParser
import Foundation
import TrellisCore
import TrellisPluginHost
import TrellisRuntime
import TrellisSearch
import TrellisStore

struct Search: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make, fill and query search indexes (BM25, with analyzer plugins).",
        discussion: """
            Indexes live in the deployment's search folder (`search.path`, default: `search` beside the store). \
            A text field is analyzed by analyzer plugins the deployment enables. Query syntax, schemas and \
            analyzers: docs/search.md.
            """,
        subcommands: [List.self, Create.self, Index.self, Query.self, Suggest.self, Stats.self, Reindex.self, Drop.self, Runs.self])

    /// Opens the deployment's search engine with its analyzer plugins loaded.
    struct EngineOptions: ParsableArguments {
        @OptionGroup var deployment: DeploymentOptions

        func engine() throws -> SearchEngine { try HostSetup(deployment).searchEngine() }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the indexes with their document counts.")
        @OptionGroup var options: EngineOptions
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let engine = try options.engine()
            let rows = try engine.names.map { name -> [String: JSONValue] in
                let stats = try searchCall { try engine.index(name).statistics() }
                return ["name": .string(name), "documents": .number(Double(stats.documents)), "segments": .number(Double(stats.segments)),
                        "bytes": .number(Double(stats.bytes))]
            }
            if json {
                print(JSONValue.array(rows.map(JSONValue.object)).jsonString(pretty: true))
            } else if rows.isEmpty {
                print("No search indexes in \(engine.root). Make one with `trellis search create NAME --schema FILE`.")
            } else {
                printColumns(header: ["NAME", "DOCUMENTS", "SEGMENTS", "SIZE"], rows: rows.map { row in
                    [row["name"]!.stringValue!, "\(row["documents"]!.intValue!)", "\(row["segments"]!.intValue!)",
                     byteCount(row["bytes"]!.intValue!)]
                })
            }
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make an empty index from a schema file (JSON or YAML).",
            discussion: """
                A schema names the fields: {"fields": {"title": {"type": "text", "analyzer": ["analyzer.english"], \
                "boost": 2}, "status": {"type": "keyword"}}, "id": "id"}. Types: text, keyword, number, date. \
                See docs/search.md, "Schema".
                """)
        @OptionGroup var options: EngineOptions
        @Argument(help: "The index's name.") var name: String
        @Option(help: ArgumentHelp("The schema file.", valueName: "file")) var schema: String

        func run() throws {
            let value: JSONValue
            do {
                value = try YAMLDocument(text: try TextFile.read(schema), file: schema).value
            } catch {
                throw CLIError("\(schema): \(error)")
            }
            let engine = try options.engine()
            let parsed = try searchCall { try SearchSchema.parse(value) }
            let index = try searchCall { try engine.create(name, schema: parsed) }
            print("created \(name) with \(index.schema.fields.count) field\(index.schema.fields.count == 1 ? "" : "s") in \(engine.root)/\(name)")
        }
    }

    struct Index: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Index documents given as JSON lines, from a file or standard input.",
            discussion: """
                Each line is one JSON object with the schema's id field; a document whose id is indexed already \
                replaces it. Documents are committed every --batch lines and at the end; a bad line stops the \
                command, naming the line, and what was committed before it stays. A progress bar shows on a terminal.
                """)
        @OptionGroup var options: EngineOptions
        @Argument(help: "The index's name.") var name: String
        @Argument(help: ArgumentHelp("A JSON lines file; - or nothing for standard input.", valueName: "file")) var file: String?
        @Option(help: "Commit after this many documents.") var batch = 50_000

        func validate() throws {
            guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        }

        func run() throws {
            let engine = try options.engine()
            let index = try searchCall { try engine.index(name) }
            let handle: FileHandle
            var total: Int?
            if let file, file != "-" {
                guard let opened = FileHandle(forReadingAtPath: file) else { throw CLIError("cannot read \(file)") }
                handle = opened
                total = ((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? NSNumber)?.intValue
            } else {
                handle = FileHandle.standardInput
            }
            let progress = ProgressBar(label: "indexing \(name)", total: total)
            var documents: [JSONValue] = []
            var line = 0
            var indexed = 0
            var bytesRead = 0
            let started = Date()
            func flush() throws {
                guard !documents.isEmpty else { return }
                try searchCall { try index.index(documents) }
                try searchCall { try index.commit() }
                indexed += documents.count
                documents.removeAll(keepingCapacity: true)
            }
            var reader = LineReader(handle: handle)
            while let bytes = reader.next() {
                line += 1
                bytesRead += bytes.count + 1
                if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                let value: JSONValue
                do {
                    value = try JSONValue(json: bytes)
                } catch {
                    progress.finish()
                    try flush()
                    throw CLIError("line \(line) is not JSON (\(error.message) at byte \(error.offset)); the \(indexed) documents before it are committed")
                }
                documents.append(value)
                if documents.count >= batch {
                    do {
                        try flush()
                    } catch {
                        progress.finish()
                        throw CLIError("\(error) (in the documents up to line \(line))")
                    }
                }
                progress.update(done: total == nil ? line : bytesRead, note: "\(line) documents")
            }
            do {
                try flush()
            } catch {
                progress.finish()
                throw CLIError("\(error)")
            }
            try searchCall { try index.mergeIfNeeded() }
            progress.finish()
            let seconds = Date().timeIntervalSince(started)
            print("indexed \(indexed) document\(indexed == 1 ? "" : "s") into \(name) in \(String(format: "%.2f", seconds)) s")
        }
    }

    struct Query: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Search an index and print the hits.",
            discussion: """
                Query syntax: words (OR by default), "a phrase", "near words"~2, prefix*, fuzzy~1, field:word, \
                +must, -not, AND, OR, NOT, (groups), word^2. Filters: --filter status=failed (a keyword field; \
                repeat for AND, commas for any of several values), --range took=10..500 or at=2026-11-01.. (number \
                and date fields). Exits 1 when nothing matches.
                """)
        @OptionGroup var options: EngineOptions
        @Argument(help: "The index's name.") var name: String
        @Argument(help: "The query.") var query: String
        @Option(help: "How many hits.") var limit = 10
        @Option(help: "Hits to skip.") var offset = 0
        @Option(help: ArgumentHelp("A keyword filter, field=value[,value…] (repeatable).", valueName: "filter")) var filter: [String] = []
        @Option(help: ArgumentHelp("A range filter, field=low..high, either side may be empty (repeatable).", valueName: "range"))
        var range: [String] = []
        @Option(help: ArgumentHelp("Count the values of a keyword field (repeatable).", valueName: "field")) var facet: [String] = []
        @Option(help: ArgumentHelp("Sort by a field; -field for descending (repeatable). Default: score.", valueName: "field"))
        var sort: [String] = []
        @Option(help: ArgumentHelp("Look for bare words in these text fields only (comma-separated).", valueName: "fields")) var fields: String?
        @Flag(help: "Join bare words with AND instead of OR.") var and = false
        @Flag(help: "Print the result as JSON.") var json = false

        func run() throws {
            let engine = try options.engine()
            let index = try searchCall { try engine.index(name) }
            var request = SearchRequest(query: query)
            request.limit = limit
            request.offset = offset
            request.defaultOperator = and ? .and : .or
            request.facets = facet
            request.fields = fields.map { $0.split(separator: ",").map(String.init) }
            request.sort = sort.map { $0.hasPrefix("-") ? SortKey(field: String($0.dropFirst()), descending: true) : SortKey(field: $0) }
            if !json { request.marks = ("\u{1B}[1m", "\u{1B}[0m") }
            if isatty(STDOUT_FILENO) == 0, !json { request.marks = ("[", "]") }
            for item in filter {
                guard let equals = item.firstIndex(of: "=") else { throw ValidationError("--filter \(item): write field=value") }
                request.filters.append(.equals(field: String(item[..<equals]),
                                               values: item[item.index(after: equals)...].split(separator: ",").map(String.init)))
            }
            for item in range {
                guard let equals = item.firstIndex(of: "="), let dots = item.range(of: "..") else {
                    throw ValidationError("--range \(item): write field=low..high (either may be empty)")
                }
                let field = String(item[..<equals])
                func bound(_ text: Substring) throws -> Double? {
                    guard !text.isEmpty else { return nil }
                    if let number = Double(text) { return number }
                    guard let date = SearchIndex.date(.string(String(text))) else {
                        throw ValidationError("--range \(item): '\(text)' is neither a number nor a date (2026-11-01 or ISO 8601)")
                    }
                    return date
                }
                request.filters.append(.range(field: field, lower: try bound(item[item.index(after: equals)..<dots.lowerBound]),
                                              upper: try bound(item[dots.upperBound...])))
            }
            let result = try searchCall { try index.search(request) }
            if json {
                print(result.json.jsonString(pretty: true))
            } else {
                print("\(result.totalIsExact ? "" : "at least ")\(result.total) hit\(result.total == 1 && result.totalIsExact ? "" : "s") in \(String(format: "%.2f", Double(result.microseconds) / 1000)) ms"
                      + (result.suggestion.map { "; did you mean: \($0)" } ?? ""))
                for (rank, hit) in result.hits.enumerated() {
                    print("\n\(offset + rank + 1). \(hit.id)  (score \(String(format: "%.3f", hit.score)))")
                    for (field, highlight) in hit.highlights.sorted(by: { $0.key < $1.key }) {
                        print("   \(field): \(highlight.snippet.replacingOccurrences(of: "\n", with: " "))")
                    }
                    if hit.highlights.isEmpty, case .object(let stored) = hit.fields {
                        for (field, value) in stored.sorted(by: { $0.key < $1.key }) where field != index.schema.idField {
                            print("   \(field): \(value.stringValue ?? value.jsonString())")
                        }
                    }
                }
                for (field, counts) in result.facets.sorted(by: { $0.key < $1.key }) {
                    print("\n\(field): " + counts.map { "\($0.value) (\($0.count))" }.joined(separator: ", "))
                }
            }
            if result.total == 0 { throw ExitCode(1) }
        }
    }

    struct Suggest: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Complete a word from an index's terms, the most frequent first.")
        @OptionGroup var options: EngineOptions
        @Argument(help: "The index's name.") var name: String
        @Argument(help: "The beginning of a word.") var prefix: String
        @Option(help: "Only this text field's terms.") var field: String?
        @Option(help: "How many.") var limit = 10

        func run() throws {
            let engine = try options.engine()
            let index = try searchCall { try engine.index(name) }
            for suggestion in try searchCall({ try index.suggest(prefix: prefix, field: field, limit: limit) }) {
                print("\(suggestion.value)\t\(suggestion.count)")
            }
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show an index's size, analyzers and query analytics (top queries, queries that found nothing).")
        @OptionGroup var options: EngineOptions
        @Argument(help: "The index's name.") var name: String
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let engine = try options.engine()
            let index = try searchCall { try engine.index(name) }
            let stats = index.statistics()
            let queries = index.analytics?.summary()
            if json {
                var report: [String: JSONValue] = [:]
                report["documents"] = .number(Double(stats.documents))
                report["deleted"] = .number(Double(stats.deleted))
                report["segments"] = .number(Double(stats.segments))
                report["generation"] = .number(Double(stats.generation))
                report["bytes"] = .number(Double(stats.bytes))
                report["terms"] = .object(stats.terms.mapValues { .number(Double($0)) })
                report["analyzers"] = .object(stats.analyzers.mapValues(JSONValue.string))
                report["reindex_needed"] = .bool(index.reindexProblem != nil)
                report["queries"] = .number(Double(queries?.queries ?? 0))
                func counted(_ items: [(query: String, count: Int)]) -> JSONValue {
                    .array(items.map { item -> JSONValue in .object(["query": .string(item.query), "count": .number(Double(item.count))]) })
                }
                report["top_queries"] = counted(queries?.top ?? [])
                report["zero_result_queries"] = counted(queries?.zeroResults ?? [])
                report["p50_ms"] = .number(Double(queries?.p50Microseconds ?? 0) / 1000)
                report["p99_ms"] = .number(Double(queries?.p99Microseconds ?? 0) / 1000)
                print(JSONValue.object(report).jsonString(pretty: true))
                return
            }
            print("""
                \(name): \(stats.documents) documents\(stats.deleted > 0 ? " (and \(stats.deleted) deleted, awaiting a merge)" : ""), \(stats.segments) segment\(stats.segments == 1 ? "" : "s"), \
                \(byteCount(stats.bytes)), commit \(stats.generation)
                """)
            for (field, signature) in stats.analyzers.sorted(by: { $0.key < $1.key }) {
                print("  \(field): \(stats.terms[field] ?? 0) terms, analyzed by \(signature)")
            }
            if let problem = index.reindexProblem { print("  \(problem)") }
            if let queries, queries.queries > 0 {
                print("queries: \(queries.queries), p50 \(String(format: "%.2f", Double(queries.p50Microseconds) / 1000)) ms, "
                      + "p99 \(String(format: "%.2f", Double(queries.p99Microseconds) / 1000)) ms")
                print("  top: " + queries.top.map { "\($0.query) (\($0.count))" }.joined(separator: ", "))
                if !queries.zeroResults.isEmpty {
                    print("  found nothing: " + queries.zeroResults.map { "\($0.query) (\($0.count))" }.joined(separator: ", "))
                }
            }
        }
    }

    struct Reindex: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build an index again from its documents, with the analyzers the deployment has now.",
            discussion: "Needed after an analyzer plugin or a field's analyzer chain changes; queries say so until it is done.")
        @OptionGroup var options: EngineOptions
        @Argument(help: "The index's name.") var name: String

        func run() throws {
            let engine = try options.engine()
            let progress = ProgressBar(label: "reindexing \(name)", total: nil)
            let count = try searchCall { try engine.reindex(name) { done, total in progress.update(done: done, note: "of \(total)") } }
            progress.finish()
            print("reindexed \(count) document\(count == 1 ? "" : "s") of \(name)")
        }
    }

    struct Drop: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an index and its files.")
        @OptionGroup var options: EngineOptions
        @Argument(help: "The index's name.") var name: String
        @Flag(help: "Do not ask.") var yes = false

        func run() throws {
            let engine = try options.engine()
            if !yes {
                guard isatty(STDIN_FILENO) == 1 else { throw CLIError("dropping \(name) deletes its files; pass --yes to confirm") }
                FileHandle.standardError.write(Data("delete the index \(name) and its files? [y/N] ".utf8))
                guard let answer = readLine(), answer.lowercased().hasPrefix("y") else {
                    print("kept \(name)")
                    return
                }
            }
            try searchCall { try engine.drop(name) }
            print("dropped \(name)")
        }
    }
}

extension Search {
    struct Runs: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Find runs in the run history: by workflow, status, step, plugin, error class or message.",
            discussion: """
                The history is indexed from the store (`trellis serve` keeps it current; this command catches up \
                first), with each run's workflow, status, trigger, steps, plugins, error classes and messages. \
                Examples: trellis search runs "timeout AND channel.slack"; trellis search runs nightly --status failed. \
                Keyword fields for the query: workflow:, status:, step:, plugin:, error:. Exits 1 when nothing matches.
                """)
        @OptionGroup var options: StoreOptions
        @Argument(help: "The query.") var query: String
        @Option(help: "Only runs with this status.") var status: String?
        @Option(help: "Only runs of this workflow.") var workflow: String?
        @Option(help: "How many runs.") var limit = 20
        @Flag(help: "Newest first instead of best match first.") var newest = false
        @Flag(help: "Print JSON.") var json = false

        struct StoreOptions: ParsableArguments {
            @OptionGroup var deployment: DeploymentOptions
            @Option(help: ArgumentHelp("The store file. Default: the deployment config's `store:`.", valueName: "path")) var store: String?
        }

        func run() throws {
            let setup = try HostSetup(options.deployment)
            let store = try setup.openStore(override: options.store)
            let search = setup.searchEngine()
            let (indexer, why) = setup.historyIndexer(store: store, search: search)
            guard let indexer else { throw CLIError(why ?? "run history is not indexed") }
            try searchCall { try indexer.catchUp() }
            var request = SearchRequest(query: query)
            request.limit = limit
            if let status { request.filters.append(.equals(field: "status", values: [status])) }
            if let workflow { request.filters.append(.equals(field: "workflow", values: [workflow])) }
            if newest { request.sort = [SortKey(field: "at", descending: true)] }
            request.marks = isatty(STDOUT_FILENO) == 1 ? ("\u{1B}[1m", "\u{1B}[0m") : ("[", "]")
            let result = try searchCall { try search.index(HistoryIndexer.runsIndex).search(request) }
            if json {
                print(result.json.jsonString(pretty: true))
            } else {
                print("\(result.total) run\(result.total == 1 ? "" : "s")" + (result.suggestion.map { "; did you mean: \($0)" } ?? ""))
                let formatter = ISO8601DateFormatter()
                for hit in result.hits {
                    let at = hit.fields["at"]?.doubleValue.map { formatter.string(from: Date(timeIntervalSince1970: $0)) } ?? "-"
                    print("\(hit.id)  \(hit.fields["workflow"]?.stringValue ?? "-")  \(hit.fields["status"]?.stringValue ?? "-")  \(at)")
                    if let snippet = hit.highlights["text"]?.snippet {
                        print("   " + snippet.replacingOccurrences(of: "\n", with: " · "))
                    }
                }
            }
            if result.total == 0 { throw ExitCode(1) }
        }
    }
}

/// Runs a search engine call, its error becoming a command's error.
@discardableResult
func searchCall<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as SearchError {
        throw CLIError(error.description)
    } catch let error as StoreError {
        throw CLIError("the store: \(error)")
    }
}

func byteCount(_ bytes: Int) -> String {
    bytes < 1024 ? "\(bytes) B" : bytes < 1 << 20 ? String(format: "%.1f KiB", Double(bytes) / 1024)
        : String(format: "%.1f MiB", Double(bytes) / Double(1 << 20))
}

/// Reads lines of bytes from a file handle, in large pieces.
struct LineReader {
    let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var ended = false
    /// A line longer than this is cut (and is then not JSON).
    let maximumLine = 16 << 20

    init(handle: FileHandle) { self.handle = handle }

    mutating func next() -> [UInt8]? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                let line = Array(buffer[start..<newline])
                start = newline + 1
                return line
            }
            if ended {
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start...])
                start = buffer.count
                return line
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            let data = handle.readData(ofLength: 1 << 20)
            if data.isEmpty { ended = true } else { buffer.append(contentsOf: data) }
            if buffer.count > maximumLine, buffer.firstIndex(of: 0x0A) == nil {
                let line = Array(buffer)
                buffer = []
                return line
            }
        }
    }
}

/// A progress bar on standard error when it is a terminal; nothing otherwise.
final class ProgressBar: @unchecked Sendable {
    let label: String
    let total: Int?
    private let enabled = isatty(STDERR_FILENO) == 1
    private var last = Date.distantPast
    private var drawn = false

    init(label: String, total: Int?) {
        self.label = label
        self.total = total
    }

    func update(done: Int, note: String) {
        guard enabled, Date().timeIntervalSince(last) > 0.1 else { return }
        last = Date()
        var line = "\r\(label) "
        if let total, total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            let width = 30
            let filled = Int(fraction * Double(width))
            line += "[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled) + "] "
                + String(format: "%3.0f%%", fraction * 100) + " "
        }
        line += note + "\u{1B}[K"
        FileHandle.standardError.write(Data(line.utf8))
        drawn = true
    }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        drawn = false
    }
}
