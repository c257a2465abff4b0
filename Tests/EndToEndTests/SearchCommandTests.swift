import Foundation
import Testing

/// `trellis search …`, search steps in a workflow, and an index killed
/// with SIGKILL in the middle of its commits — through the real binary.
@Suite struct SearchCommandTests {
    static let deployment = """
          analyzer.standard:
          analyzer.english:
        """

    func workspace() throws -> Workspace {
        let workspace = try Workspace()
        try workspace.config(Self.deployment, extra: "store: trellis.db\n")
        try workspace.write("schema.yaml", """
            fields:
              title: {type: text, analyzer: [analyzer.english], boost: 2}
              body: {type: text, analyzer: [analyzer.standard, analyzer.english]}
              status: {type: keyword}
            """)
        let created = try workspace.trellis("search", "create", "runs", "--schema", "schema.yaml")
        guard created.status == 0 else { throw WorkspaceError(message: created.stderr) }
        return workspace
    }

    @Test func createIndexQueryStatsSuggestReindexDrop() throws {
        let workspace = try workspace()
        try workspace.write("runs.jsonl", """
            {"id": "r1", "title": "Nightly backup", "body": "The backup step timed out calling channel.slack", "status": "failed"}
            {"id": "r2", "title": "Deploy web", "body": "Deployed in two minutes", "status": "succeeded"}

            {"id": "r3", "title": "Backups pruned", "body": "Old backups removed", "status": "succeeded"}
            """)
        let indexed = try workspace.trellis("search", "index", "runs", "runs.jsonl")
        #expect(indexed.status == 0, "\(indexed.stderr)")
        #expect(indexed.stdout.contains("indexed 3 documents into runs"))

        let query = try workspace.trellis("search", "query", "runs", "backup", "--facet", "status", "--json")
        #expect(query.status == 0, "\(query.stderr)")
        let result = try #require(try json(query.stdout) as? [String: Any])
        #expect(result["total"] as? Int == 2)
        let hits = try #require(result["hits"] as? [[String: Any]])
        #expect(Set(hits.compactMap { $0["id"] as? String }) == ["r1", "r3"])
        let facets = try #require(result["facets"] as? [String: [[String: Any]]])
        #expect(facets["status"]?.count == 2)

        let text = try workspace.trellis("search", "query", "runs", "timed out", "--filter", "status=failed")
        #expect(text.stdout.contains("1 hit"), "\(text.stdout)")
        #expect(text.stdout.contains("[timed] [out]"), "matches are bracketed when the output is no terminal: \(text.stdout)")
        let none = try workspace.trellis("search", "query", "runs", "bakup")
        #expect(none.status == 1, "nothing found exits 1")
        #expect(none.stdout.contains("did you mean: backup"), "\(none.stdout)")

        let suggest = try workspace.trellis("search", "suggest", "runs", "back")
        #expect(suggest.stdout.hasPrefix("backup\t"), "\(suggest.stdout)")
        let stats = try workspace.trellis("search", "stats", "runs", "--json")
        let figures = try #require(try json(stats.stdout) as? [String: Any])
        #expect(figures["documents"] as? Int == 3)
        #expect((figures["zero_result_queries"] as? [[String: Any]])?.first?["query"] as? String == "bakup")
        #expect(try workspace.trellis("search", "reindex", "runs").stdout.contains("reindexed 3 documents"))
        #expect(try workspace.trellis("search", "list").stdout.contains("runs  3"))
        #expect(try workspace.trellis("search", "drop", "runs").status != 0, "dropping asks, and refuses without a terminal")
        #expect(try workspace.trellis("search", "drop", "runs", "--yes").status == 0)
        #expect(try workspace.trellis("search", "query", "runs", "x").stderr.contains("no search index 'runs'"))
    }

    @Test func aBadLineStopsIndexingNamingItAndKeepsWhatWasCommitted() throws {
        let workspace = try workspace()
        try workspace.write("bad.jsonl", "{\"id\": \"a\", \"body\": \"first\"}\n{\"id\": \"b\", \"body\": \"second\"}\n{oops\n")
        let indexed = try workspace.trellis("search", "index", "runs", "bad.jsonl", "--batch", "1")
        #expect(indexed.status == 1)
        #expect(indexed.stderr.contains("line 3 is not JSON") && indexed.stderr.contains("the 2 documents before it are committed"),
                "\(indexed.stderr)")
        try workspace.write("noid.jsonl", "{\"body\": \"no id\"}\n")
        let refused = try workspace.trellis("search", "index", "runs", "noid.jsonl")
        #expect(refused.status == 1 && refused.stderr.contains("has no 'id'"), "\(refused.stderr)")
        let stats = try json(try workspace.trellis("search", "stats", "runs", "--json").stdout) as? [String: Any]
        #expect(stats?["documents"] as? Int == 2)
    }

    @Test func workflowStepsIndexAndQuery() throws {
        let workspace = try workspace()
        try workspace.write("flow.yaml", """
            name: search-flow
            steps:
              - id: make
                uses: noop
                with:
                  docs:
                    - {id: w1, title: "Invoice overdue", body: "the invoice for acme is overdue", status: open}
                    - {id: w2, title: "Invoice paid", body: "acme paid the invoice", status: closed}
              - id: store
                uses: search.index
                needs: [make]
                with: { index: runs, documents: "${{ steps.make.output.docs }}" }
              - id: find
                uses: search.query
                needs: [store]
                with: { index: runs, query: "overdue invoices", filters: { status: open }, facets: [status] }
            """)
        let validated = try workspace.trellis("validate", "flow.yaml")
        #expect(validated.status == 0, "\(validated.stdout)\(validated.stderr)")
        let run = try workspace.trellis("run", "flow.yaml", "--json")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains(#""indexed":2"#), "\(run.stdout.suffix(600))")
        #expect(run.stdout.contains(#""total":1"#) && run.stdout.contains(#""id":"w1""#), "\(run.stdout.suffix(900))")

        try workspace.write("unknown.yaml", """
            name: unknown-index
            steps:
              - id: find
                uses: search.query
                with: { index: rns, query: x, limitt: 3 }
            """)
        let refused = try workspace.trellis("validate", "unknown.yaml")
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("no search index 'rns' (did you mean 'runs'?)"), "\(refused.stdout)")
        #expect(refused.stdout.contains("limitt"), "\(refused.stdout)")
    }

    /// A workflow that hands a secret to search.index leaves none in the
    /// index's files, and a query for it finds nothing.
    @Test func aSecretGivenToAnIndexIsMasked() throws {
        let workspace = try workspace()
        let secret = "idx-Secret-4412-zq"
        try workspace.config(Self.deployment, extra: "store: trellis.db\nsecrets: { TOKEN: \"${env:SEARCH_TOKEN}\" }\n")
        try workspace.write("leak.yaml", """
            name: leak
            steps:
              - id: store
                uses: search.index
                with: { index: runs, documents: [{ id: s1, title: "token", body: "the token is ${{ secrets.TOKEN }}" }] }
            """)
        let run = try workspace.trellis("run", "leak.yaml", environment: ["SEARCH_TOKEN": secret])
        #expect(run.status == 0, "\(run.stderr)")
        let folder = "\(workspace.path)/search/runs"
        for file in try FileManager.default.contentsOfDirectory(atPath: folder) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(file)"))
            #expect(String(decoding: bytes, as: UTF8.self).range(of: secret, options: .caseInsensitive) == nil, "\(file) holds the secret")
        }
        let query = try workspace.trellis("search", "query", "runs", "token", "--json")
        #expect(query.stdout.contains("***") && !query.stdout.contains(secret), "\(query.stdout)")
    }

    /// SIGKILL at random moments while `search index` commits batch after
    /// batch: every time, the index opens with a whole number of batches.
    @Test(.timeLimit(.minutes(5)))
    func killedWhileCommittingTheLastCommitStaysReadable() throws {
        let workspace = try workspace()
        let lines = (0..<20_000).map { "{\"id\": \"d\($0)\", \"body\": \"document number \($0) about backups and deploys\", \"status\": \"s\($0 % 7)\"}" }
        try workspace.write("many.jsonl", lines.joined(separator: "\n") + "\n")
        let seed = ProcessInfo.processInfo.environment["TRELLIS_TEST_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0...UInt64.max)
        print("search crash test: seed \(seed) (set TRELLIS_TEST_SEED=\(seed) to replay it)")
        var generator = SplitMix64(seed: seed)
        var kills = 0
        for _ in 0..<8 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "\(CLI.buildDirectory)/trellis")
            process.arguments = ["search", "index", "runs", "many.jsonl", "--batch", "500"]
            process.currentDirectoryURL = URL(fileURLWithPath: workspace.path)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let deadline = Date().addingTimeInterval(Double.random(in: 0.2...1.5, using: &generator))
            while process.isRunning && Date() < deadline { usleep(2000) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                kills += 1
            }
            process.waitUntilExit()
            let stats = try workspace.trellis("search", "stats", "runs", "--json")
            #expect(stats.status == 0, "the index opens after the kill: \(stats.stderr) (seed \(seed))")
            let documents = try #require((try? json(stats.stdout) as? [String: Any])?["documents"] as? Int)
            #expect(documents % 500 == 0 && documents <= 20_000, "a whole number of committed batches: \(documents) (seed \(seed))")
            let query = try workspace.trellis("search", "query", "runs", "backups", "--json", "--limit", "1")
            #expect(query.status == 0 || documents == 0, "\(query.stderr)")
        }
        #expect(kills >= 3, "killed mid-indexing \(kills) times")
        let folder = "\(workspace.path)/search/runs"
        let strays = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".tmp") }
        #expect(strays.isEmpty, "what a kill leaves is swept at the next open: \(strays)")
    }

    /// Runs are found by what happened in them; catching up again indexes
    /// nothing that did not change.
    @Test func runHistoryIsSearchable() throws {
        let workspace = try Workspace()
        try workspace.config(Self.deployment + "\n  channel.stdout:", extra: "store: trellis.db\nexec: true\n")
        try workspace.write("nightly.yaml", """
            name: nightly-backup
            steps:
              - id: backup
                uses: exec
                with: { command: [false] }
            """)
        try workspace.write("fine.yaml", """
            name: deploy-web
            steps:
              - id: tell
                uses: channel.stdout
                with: { text: deployed }
            """)
        #expect(try workspace.trellis("run", "nightly.yaml").status == 1)
        #expect(try workspace.trellis("run", "fine.yaml").status == 0)
        let found = try workspace.trellis("search", "runs", "permanent AND exec", "--json")
        #expect(found.status == 0, "\(found.stderr)")
        let hits = (try json(found.stdout) as? [String: Any])?["hits"] as? [[String: Any]] ?? []
        #expect(hits.count == 1)
        #expect((hits.first?["fields"] as? [String: Any])?["workflow"] as? String == "nightly-backup")
        let byPlugin = try workspace.trellis("search", "runs", "plugin:channel.stdout")
        #expect(byPlugin.stdout.contains("deploy-web") && !byPlugin.stdout.contains("nightly-backup"), "\(byPlugin.stdout)")
        let failed = try workspace.trellis("search", "runs", "*", "--status", "failed")
        #expect(failed.stdout.hasPrefix("1 run"), "\(failed.stdout)")
        let before = (try json(try workspace.trellis("search", "stats", HistoryName.runs, "--json").stdout) as? [String: Any])?["generation"] as? Int
        _ = try workspace.trellis("search", "runs", "exec")
        let after = (try json(try workspace.trellis("search", "stats", HistoryName.runs, "--json").stdout) as? [String: Any])?["generation"] as? Int
        #expect(before != nil && before == after, "nothing changed, nothing was committed again")
    }

    enum HistoryName { static let runs = "history-runs" }
}

/// `trellis bench search` runs end to end on a small corpus, and its
/// top-10 agreement with the plain BM25 it carries holds there too.
@Suite struct SearchBenchmarkTests {
    @Test(.timeLimit(.minutes(3)))
    func theBenchmarkRunsAndAgreesWithThePlainBM25() async throws {
        let workspace = try Workspace()
        let ran = try await CLI.runOffPool("\(CLI.buildDirectory)/trellis",
                                           ["bench", "search", "--documents", "4000", "--query-count", "60", "--registry", "registry", "--json"],
                                           in: workspace.path)
        #expect(ran.status == 0, "\(ran.stderr)")
        let result = try #require(try json(ran.stdout) as? [String: Any])
        let trellis = try #require(result["trellis"] as? [String: Any])
        let fts5 = try #require(result["fts5"] as? [String: Any])
        #expect(trellis["documents"] as? Int == 4000)
        #expect((fts5["bytes"] as? Int ?? 0) > 0, "FTS5 was built in the same process")
        #expect((result["agreement"] as? Double ?? 0) >= 0.95, "\(result)")
    }
}
