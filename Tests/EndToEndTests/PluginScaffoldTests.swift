import Foundation
import Testing

/// `trellis plugins new` writes a plugin of each kind, in Swift and in C,
/// that builds as written, passes `plugins check`, and runs in a workflow.
@Suite struct PluginScaffoldTests {
    @Test(.timeLimit(.minutes(10)), arguments: ["c", "swift"])
    func aNewPluginOfEachKindBuildsPassesTheCheckAndRuns(lang: String) async throws {
        let workspace = try Workspace()
        let trellis = "\(CLI.buildDirectory)/trellis"
        var pluginPaths: [String] = []
        var registries: [String] = []
        for kind in ["channel", "provider", "recovery", "analyzer"] {
            let id = "\(kind).made-\(lang)"
            let made = try workspace.trellis("plugins", "new", kind, id, "--lang", lang, "--dir", "\(kind)-\(lang)",
                                             "--sdk", "\(CLI.packageRoot)/SDK")
            #expect(made.status == 0, "\(made.stderr)")
            let directory = "\(workspace.path)/\(kind)-\(lang)"
            // The build takes a while: it waits off Swift's cooperative threads.
            let checked = try await CLI.runOffPool("/usr/bin/env", ["bash", "check.sh"], in: directory, environment: ["TRELLIS": trellis])
            #expect(checked.status == 0, "\(id): \(checked.stdout)\n\(checked.stderr)")
            #expect(checked.stdout.contains("conformant: every check passed"), "\(id): \(checked.stdout)")
            pluginPaths.append(lang == "swift" ? "\(directory)/.build/debug" : directory)
            registries.append("\(directory)/build/registry")
        }
        try workspace.write("trellis.yaml", """
            plugin_paths: [\(pluginPaths.joined(separator: ", "))]
            registry: [\(registries.joined(separator: ", "))]
            store: trellis.db
            plugins:
              channel.made-\(lang):
              provider.made-\(lang):
              recovery.made-\(lang):
              analyzer.made-\(lang):
            """)
        try workspace.write("made.yaml", """
            name: made-\(lang)
            steps:
              - id: ask
                uses: provider.made-\(lang)
                with: { messages: [{ role: user, content: hi }] }
              - id: tell
                uses: channel.made-\(lang)
                needs: [ask]
                with: { text: "${{ steps.ask.output.text }}" }
                recovery: [{ uses: recovery.made-\(lang) }]
            """)
        let run = try workspace.trellis("run", "made.yaml", "--json")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("hello from Provider"), "the provider answered: \(run.stdout.suffix(800))")
        #expect(run.stdout.contains(#""status":"delivered""#), "the channel delivered")
        let tokens = try workspace.trellis("plugins", "call", "analyzer.made-\(lang)", "--input", #"{"text": "two words"}"#)
        #expect(tokens.status == 0, "\(tokens.stderr)")
        #expect(tokens.stdout.contains(#""term": "words""#), "\(tokens.stdout)")
    }

    @Test func badArgumentsSayWhatIsExpected() throws {
        let workspace = try Workspace()
        let kind = try workspace.trellis("plugins", "new", "widget", "widget.x")
        #expect(kind.stderr.contains("the kind is channel, provider, recovery or analyzer"))
        let id = try workspace.trellis("plugins", "new", "channel", "provider.x")
        #expect(id.stderr.contains("the id is channel.<name>"))
        try FileManager.default.createDirectory(atPath: "\(workspace.path)/taken", withIntermediateDirectories: true)
        try workspace.write("taken/file", "x")
        let taken = try workspace.trellis("plugins", "new", "channel", "channel.x", "--dir", "taken", "--sdk", "\(CLI.packageRoot)/SDK")
        #expect(taken.stderr.contains("exists and is not empty"))
    }
}
