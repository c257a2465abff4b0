import Foundation
import Testing

/// The C examples under docs/examples (a channel, an analyzer, a recovery
/// strategy) build, pass `plugins check`, and run: so they cannot rot.
@Suite struct CExampleTests {
    @Test(.timeLimit(.minutes(3)))
    func theCExamplesBuildPassTheCheckAndRun() async throws {
        let workspace = try Workspace()
        let trellis = "\(CLI.buildDirectory)/trellis"
        var paths: [String] = [], registries: [String] = []
        for kind in ["channel", "analyzer", "recovery"] {
            // Built in a copy, so the checkout stays clean.
            let copy = "\(workspace.path)/c-\(kind)"
            try FileManager.default.copyItem(atPath: "\(CLI.packageRoot)/docs/examples/c-\(kind)", toPath: copy)
            let checked = try await CLI.runOffPool(
                "/usr/bin/env", ["bash", "check.sh"], in: copy,
                environment: ["TRELLIS": trellis, "TRELLIS_INCLUDE": "\(CLI.packageRoot)/SDK/CTrellisABI/include"])
            #expect(checked.status == 0, "c-\(kind): \(checked.stdout)\n\(checked.stderr)")
            #expect(checked.stdout.contains("conformant: every check passed"), "c-\(kind): \(checked.stdout)")
            paths.append(copy)
            registries.append("\(copy)/build/registry")
        }
        try workspace.write("trellis.yaml", """
            plugin_paths: [\(paths.joined(separator: ", ")), \(CLI.buildDirectory)]
            registry: [\(registries.joined(separator: ", ")), registry]
            store: trellis.db
            plugins:
              channel.example-c:
              analyzer.example-c:
              recovery.example-c:
              analyzer.standard:
            """)
        try workspace.write("examples.yaml", """
            name: c-examples
            steps:
              - id: tell
                uses: channel.example-c
                with: { text: hello }
                recovery: [{ uses: recovery.example-c }]
            """)
        let run = try workspace.trellis("run", "examples.yaml", "--json")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains(#""status":"delivered""#), "\(run.stdout.suffix(600))")
        let tokens = try workspace.trellis("plugins", "call", "analyzer.example-c", "--input", #"{"text": "two words"}"#)
        #expect(tokens.stdout.contains(#""term": "two""#), "\(tokens.stdout)\(tokens.stderr)")

        // The C analyzer as a filter in a search index's chain: short words are not indexed.
        try workspace.write("schema.json", #"{"fields": {"body": {"type": "text", "analyzer": ["analyzer.standard", "analyzer.example-c"]}}}"#)
        #expect(try workspace.trellis("search", "create", "notes", "--schema", "schema.json").status == 0)
        try workspace.write("notes.jsonl", #"{"id": "n1", "body": "A cat is on the Mat"}"# + "\n")
        #expect(try workspace.trellis("search", "index", "notes", "notes.jsonl").status == 0)
        #expect(try workspace.trellis("search", "query", "notes", "mat").stdout.hasPrefix("1 hit"))
        #expect(try workspace.trellis("search", "query", "notes", "is OR on").status == 1, "two-letter words were filtered out")
    }
}
