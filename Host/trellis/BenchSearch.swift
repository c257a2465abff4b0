import ArgumentParser
import Foundation
import Logging
import TrellisBenchmarks
import TrellisCore
import TrellisPluginHost

extension Bench {
    struct Search: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "search",
            abstract: "Index build time and size, and query latency, beside SQLite FTS5 on the same corpus in the same process.",
            discussion: """
                The corpus is JSON lines of {"id", "text"}; the queries, one per line. Without --corpus, a \
                dictionary-like corpus is generated (a headword and a gloss whose words follow Zipf's law over \
                /usr/share/dict/words) with 1–3 word queries; --save writes them out for other engines. Both \
                engines answer the top 10 of the words joined by OR; Trellis's top 10 is also checked against a \
                plain BM25 over the same tokens (agreement). Needs the stamped registry next to the binary.
                """)

        @Option(help: ArgumentHelp("A JSON lines corpus.", valueName: "file")) var corpus: String?
        @Option(help: ArgumentHelp("Queries, one per line.", valueName: "file")) var queries: String?
        @Option(help: "Documents to generate without --corpus.") var documents = 125_000
        @Option(help: "Queries to generate without --queries.") var queryCount = 500
        @Option(help: ArgumentHelp("Write the generated corpus.jsonl and queries.txt here.", valueName: "dir")) var save: String?
        @Option(help: ArgumentHelp("The analyzer plugin.", valueName: "id")) var analyzer = "analyzer.standard"
        @Option(help: ArgumentHelp("Where the plugin libraries and registry/ are. Default: next to this binary.", valueName: "dir"))
        var libraries: String?
        @Option(help: ArgumentHelp("Where the stamped manifests are. Default: <libraries>/registry.", valueName: "dir"))
        var registry: String?
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            warnIfDebugBuild()
            let directory = libraries ?? DeploymentOptions.binaryDirectory
            let registry = self.registry.map { URL(fileURLWithPath: $0).standardizedFileURL.path } ?? "\(directory)/registry"
            guard FileManager.default.fileExists(atPath: "\(registry)/\(analyzer)") else {
                throw ValidationError("no stamped manifest of \(analyzer) at \(registry); run `trellis registry stamp` first")
            }
            var documents: [JSONValue]
            var queryList: [String]
            if let corpus {
                guard let handle = FileHandle(forReadingAtPath: corpus) else { throw CLIError("cannot read \(corpus)") }
                var reader = LineReader(handle: handle)
                documents = []
                var line = 0
                while let bytes = reader.next() {
                    line += 1
                    guard !bytes.isEmpty else { continue }
                    do {
                        documents.append(try JSONValue(json: bytes))
                    } catch {
                        throw CLIError("\(corpus):\(line): not JSON (\(error.message))")
                    }
                }
                queryList = []
            } else {
                let words = ((try? String(contentsOfFile: "/usr/share/dict/words", encoding: .utf8)) ?? "")
                    .split(separator: "\n").map(String.init).filter { $0.allSatisfy { $0 >= "a" && $0 <= "z" } }
                (documents, queryList) = SearchBenchmark.generate(documents: self.documents, queries: queryCount, words: words)
            }
            if let queries {
                queryList = try String(contentsOfFile: queries, encoding: .utf8).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
            }
            guard !queryList.isEmpty else { throw ValidationError("no queries: give --queries FILE with one query per line") }
            if let save {
                try FileManager.default.createDirectory(atPath: save, withIntermediateDirectories: true)
                try documents.map { $0.jsonString() }.joined(separator: "\n").appending("\n").write(toFile: "\(save)/corpus.jsonl", atomically: true, encoding: .utf8)
                try queryList.joined(separator: "\n").appending("\n").write(toFile: "\(save)/queries.txt", atomically: true, encoding: .utf8)
            }
            var logger = Logger(label: "trellis.bench")
            logger.logLevel = .warning
            let scratch = try ScratchDirectory()
            let yaml = "plugin_paths: [\"\(directory)\"]\nregistry: [\"\(registry)\"]\nplugins:\n  \(analyzer):\n"
            let configuration = try DeploymentConfiguration.parse(text: yaml, file: "\(scratch.path)/trellis.yaml", defaultPluginPaths: [directory])
            let plugins = PluginManager(configuration: configuration, logger: logger)
            guard let status = plugins.load(only: [analyzer]).first, status.state == .ok, let instance = plugins.instance(analyzer) else {
                throw CLIError("\(analyzer) did not load: \(plugins.status(analyzer)?.reason ?? "unknown")")
            }
            _ = status
            let progress = ProgressBar(label: "bench search", total: nil)
            let result = try SearchBenchmark(corpus: documents, queries: queryList)
                .run(analyzer: instance, directory: scratch.path) { step in progress.update(done: 0, note: step) }
            progress.finish()
            if json {
                try printJSON(result)
                return
            }
            let t = result.trellis, s = result.fts5
            print("search: \(t.documents) documents, \(t.queries) queries (top 10, OR), analyzer \(result.analyzer), FTS5 unicode61, one process:")
            func ms(_ value: Double) -> String { String(format: "%.3f", value) }
            printColumns(header: ["", "TRELLIS", "FTS5", "TRELLIS / FTS5"], rows: [
                ["build s", String(format: "%.2f", t.buildSeconds), String(format: "%.2f", s.buildSeconds),
                 String(format: "%.2f×", t.buildSeconds / s.buildSeconds)],
                ["size", byteCount(t.bytes), byteCount(s.bytes), String(format: "%.2f×", Double(t.bytes) / Double(max(1, s.bytes)))],
                ["p50 ms", ms(t.p50Milliseconds), ms(s.p50Milliseconds), String(format: "%.2f×", t.p50Milliseconds / s.p50Milliseconds)],
                ["p90 ms", ms(t.p90Milliseconds), ms(s.p90Milliseconds), String(format: "%.2f×", t.p90Milliseconds / s.p90Milliseconds)],
                ["p99 ms", ms(t.p99Milliseconds), ms(s.p99Milliseconds), String(format: "%.2f×", t.p99Milliseconds / s.p99Milliseconds)],
            ])
            print(String(format: "top-10 agreement with a plain BM25 over the same tokens: %.3f", result.agreement))
            print(String(format: "targets: build ≤ 1.5 s — %@; p50 ≤ 0.1 ms — %@; p99 ≤ 2 ms — %@; agreement ≥ 0.95 — %@",
                         t.buildSeconds <= 1.5 ? "met" : "NOT met", t.p50Milliseconds <= 0.1 ? "met" : "NOT met",
                         t.p99Milliseconds <= 2 ? "met" : "NOT met", result.agreement >= 0.95 ? "met" : "NOT met"))
        }
    }
}
