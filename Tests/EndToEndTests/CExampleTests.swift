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
            plugin_paths: [\(paths.joined(separator: ", "))]
            registry: [\(registries.joined(separator: ", "))]
            store: trellis.db
            plugins:
              channel.example-c:
              analyzer.example-c:
              recovery.example-c:
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
    }
}
