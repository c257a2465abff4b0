import Foundation
import Testing
import TrellisPluginHost

/// `trellis plugins …`, `version`, `registry stamp` and `demo`, run as a user would.
@Suite struct PluginsCommandTests {
    let allFour = """
          channel.stdout:
          analyzer.whitespace:
          provider.offline:
          recovery.fixed-delay:
        """

    @Test func listShowsTheFourStarterPluginsAsOK() throws {
        let workspace = try Workspace()
        try workspace.config(allFour)
        let result = try workspace.trellis("plugins", "list", "--json")
        #expect(result.status == 0, "\(result.stderr)")
        let all = try #require(try json(result.stdout) as? [[String: Any]])
        let statuses = all.filter { $0["state"] as? String != "disabled" }
        #expect(statuses.map { $0["id"] as? String } == ["analyzer.whitespace", "channel.stdout", "provider.offline",
                                                         "recovery.fixed-delay"])
        #expect(statuses.allSatisfy { $0["state"] as? String == "ok" })
        #expect(Set(statuses.compactMap { $0["kind"] as? String }) == ["analyzer", "channel", "provider", "recovery"])

        let table = try workspace.trellis("plugins", "list")
        #expect(table.stdout.contains("channel.stdout"))
        #expect(table.stdout.contains("STATUS"))
    }

    @Test func aRequiredBrokenPluginFailsTheListing() throws {
        let workspace = try Workspace()
        try workspace.addFixtureManifest(id: "analyzer.broken", library: "libTrellisFixtureWrongMajor.so")
        try workspace.config("  analyzer.broken:\n")
        let result = try workspace.trellis("plugins", "list", "--json")
        #expect(result.status == 1)
        #expect(result.stderr.contains("1 required plugin failed to load: analyzer.broken"))
        let statuses = try #require(try json(result.stdout) as? [[String: Any]])
        let status = try #require(statuses.first { $0["id"] as? String == "analyzer.broken" })
        #expect(status["state"] as? String == "error")
        #expect((status["reason"] as? String)?.contains("built for plugin ABI 2.0.0") == true)

        try workspace.config("  analyzer.broken:\n    required: false\n")
        let optional = try workspace.trellis("plugins", "list")
        #expect(optional.status == 0, "an optional plugin's failure is shown but does not fail the command")
        #expect(optional.stdout.contains("error"))
    }

    @Test func extraLibrariesByPath() throws {
        let workspace = try Workspace()
        try workspace.config("  {}\n")
        let good = try workspace.trellis("plugins", "list", "--plugin", "\(CLI.buildDirectory)/libTrellisFixtureFrozen10.so")
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("fixture.frozen-1-0"))
        let bad = try workspace.trellis("plugins", "list", "--plugin", "\(CLI.buildDirectory)/libTrellisFixtureNoEntry.so")
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("does not export the entry symbol"))
    }

    @Test func configErrorsNameTheLineAndExitNonZero() throws {
        let workspace = try Workspace()
        try workspace.config("  channel.stdout:\n    config:\n      pth: /tmp/x\n")
        let result = try workspace.trellis("plugins", "list")
        #expect(result.status == 1)
        #expect(result.stdout.contains("trellis.yaml:5:7: config/pth: unknown field 'pth' (did you mean 'path'?)"),
                "\(result.stdout)")

        try workspace.write("trellis.yaml", "plugins:\n  channel.stdout: {enabled: yes please}\n")
        let malformed = try workspace.trellis("plugins", "list")
        #expect(malformed.status != 0)
        #expect(malformed.stderr.contains("trellis.yaml:2:"), "\(malformed.stderr)")
    }

    @Test func missingConfigFileIsAClearError() throws {
        let workspace = try Workspace()
        let result = try workspace.trellis("plugins", "list", "--config", "nowhere.yaml")
        #expect(result.status != 0)
        #expect(result.stderr.contains("nowhere.yaml"))
        #expect(result.stderr.contains("docs/admin.md"))
    }

    /// A stamped library later cut short: listing, inspecting and running
    /// say so, and none of them dies of SIGBUS inside dlopen.
    @Test func aTruncatedLibraryWithItsShaRecordedIsRefusedNotACrash() throws {
        let workspace = try Workspace()
        let libraries = "\(workspace.path)/lib"
        try FileManager.default.createDirectory(atPath: libraries, withIntermediateDirectories: true)
        let original = try Data(contentsOf: URL(fileURLWithPath: "\(CLI.buildDirectory)/libTrellisChannelNull.so"))
        try original.prefix(4096).write(to: URL(fileURLWithPath: "\(libraries)/libTrellisChannelNull.so"))
        // Its manifest, with the sha256 of the cut file written in by hand
        // (`registry stamp` opens a library first, and refuses this one).
        let stamp = try workspace.trellis("registry", "stamp", "--source", "\(CLI.packageRoot)/registry", "--libraries", libraries,
                                          "--output", "cut-registry", "--only", "channel.null")
        #expect(stamp.status == 1, "stamping refuses the cut library")
        #expect(stamp.stderr.contains("cut short or damaged"), "\(stamp.stderr)")
        try FileManager.default.createDirectory(atPath: "\(workspace.path)/cut-registry/channel.null", withIntermediateDirectories: true)
        let source = try String(contentsOfFile: "\(CLI.packageRoot)/registry/channel.null/1.0.0.json", encoding: .utf8)
        let sha = try sha256(ofFile: "\(libraries)/libTrellisChannelNull.so")
        try source.replacingOccurrences(of: #""file": "libTrellisChannelNull.so""#,
                                        with: #""file": "libTrellisChannelNull.so", "sha256": "\#(sha)""#)
            .write(toFile: "\(workspace.path)/cut-registry/channel.null/1.0.0.json", atomically: true, encoding: .utf8)
        try workspace.write("trellis.yaml", "plugin_paths: [lib]\nregistry: [cut-registry]\nplugins:\n  channel.null:\n")
        let list = try workspace.trellis("plugins", "list")
        #expect(list.status != 0 || list.stdout.contains("error"), "\(list.stdout)\(list.stderr)")
        #expect((list.stdout + list.stderr).contains("cut short or damaged"), "\(list.stdout)\(list.stderr)")
        let inspect = try workspace.trellis("plugins", "inspect", "\(libraries)/libTrellisChannelNull.so")
        #expect(inspect.status != 0)
        #expect(inspect.stderr.contains("lies past its end (4096 bytes)"), "\(inspect.stdout)\(inspect.stderr)")
        try workspace.write("one.yaml", "name: one\nsteps: [{ id: a, uses: channel.null }]\n")
        let run = try workspace.trellis("run", "one.yaml")
        #expect(run.status == 1, "refused with a message, not a signal: \(run.status)")
        #expect(run.stderr.contains("cut short or damaged"), "\(run.stderr)")
    }

    @Test func inspectByPathAndByID() throws {
        let workspace = try Workspace()
        try workspace.config(allFour)
        let byPath = try workspace.trellis("plugins", "inspect", "\(CLI.buildDirectory)/libTrellisAnalyzerWhitespace.so",
                                           "--json")
        #expect(byPath.status == 0)
        let report = try #require(try json(byPath.stdout) as? [String: Any])
        let descriptor = try #require(report["descriptor"] as? [String: Any])
        #expect(descriptor["id"] as? String == "analyzer.whitespace")
        #expect((descriptor["interfaces"] as? [String])?.contains("trellis.analyzer/1") == true)

        let byID = try workspace.trellis("plugins", "inspect", "provider.offline")
        #expect(byID.status == 0, "\(byID.stderr)")
        #expect(byID.stdout.contains("sha256:"))
        #expect(byID.stdout.contains("\"replies\""), "the config schema is shown")

        let typo = try workspace.trellis("plugins", "inspect", "provider.ofline")
        #expect(typo.status != 0)
        #expect(typo.stderr.contains("did you mean 'provider.offline'"))

        let broken = try workspace.trellis("plugins", "inspect", "\(CLI.buildDirectory)/libTrellisFixtureNewerMinor.so")
        #expect(broken.status == 1)
        #expect(broken.stderr.contains("newer than this host's ABI"), "a refusal is an error, on standard error")
        #expect(!broken.stdout.contains("newer than"))
    }

    /// A plugin under development, loaded by path, gets the deployment's
    /// settings for its id (it used to get `{}`, and was then told to fix a
    /// config that was set).
    @Test func aLibraryGivenByPathGetsTheDeploymentsSettingsForItsID() throws {
        let workspace = try Workspace()
        try FileManager.default.createDirectory(atPath: "\(workspace.path)/empty", withIntermediateDirectories: true)
        try workspace.write("trellis.yaml", "registry: [empty]\nplugins:\n  analyzer.whitespace:\n    config: { max_token_length: 3 }\n")
        let library = "\(CLI.buildDirectory)/libTrellisAnalyzerWhitespace.so"
        let called = try workspace.trellis("plugins", "call", "analyzer.whitespace", "--plugin", library, "--input", #"{"text": "abcdef gh"}"#)
        #expect(called.status == 0, "\(called.stderr)")
        #expect(called.stdout.contains(#""term": "abc""#), "the config's max_token_length cut the token: \(called.stdout)")
    }

    /// Stamping opens the library first: one built for another ABI, or one
    /// its manifest does not describe, is never stamped.
    @Test func stampingChecksTheLibraryAndCanTakeOnePlugin() throws {
        let workspace = try Workspace()
        func manifest(_ id: String, file: String, interfaces: String = #"["trellis.analyzer/1"]"#) throws {
            try FileManager.default.createDirectory(atPath: "\(workspace.path)/src/\(id)", withIntermediateDirectories: true)
            try workspace.write("src/\(id)/0.0.1.json", """
                {"id": "\(id)", "kind": "analyzer", "version": "0.0.1", "description": "fixture",
                 "abi": {"major": 1, "minor": 4}, "interfaces": \(interfaces),
                 "library": {"file": "\(file)"}, "config_schema": {"type": "object"}, "permissions": {}}
                """)
        }
        func stamp(_ extra: String...) throws -> CLI.Output {
            try CLI.trellis(["registry", "stamp", "--source", "src", "--libraries", CLI.buildDirectory, "--output", "out"] + extra,
                            in: workspace.path)
        }
        try manifest("analyzer.wrong-major", file: "libTrellisFixtureWrongMajor.so")
        let wrong = try stamp()
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("2.0"), "the library's ABI is named: \(wrong.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(workspace.path)/out/analyzer.wrong-major"))

        try manifest("analyzer.marker", file: "libTrellisFixtureMarker.so", interfaces: #"["trellis.analyzer/1", "trellis.health/1"]"#)
        let mismatch = try stamp("--only", "analyzer.marker")
        #expect(mismatch.status == 1)
        #expect(mismatch.stderr.contains("the library does not offer trellis.health/1"), "\(mismatch.stderr)")

        try manifest("analyzer.marker", file: "libTrellisFixtureMarker.so")
        let one = try stamp("--only", "analyzer.marker")
        #expect(one.status == 0, "\(one.stderr)")
        #expect(one.stdout.contains("stamped 1 manifest"))
        let unknown = try stamp("--only", "analyzer.nope")
        #expect(unknown.stderr.contains("no manifest for it under src"))
    }

    @Test func callEachKindFromTheCommandLine() throws {
        let workspace = try Workspace()
        try workspace.config(allFour)
        let sent = try workspace.trellis("plugins", "call", "channel.stdout", "--input", #"{"text":"hi"}"#,
                                         "--idempotency-key", "k-1")
        #expect(sent.status == 0, "\(sent.stderr)")
        #expect(sent.stdout.contains(#""idempotency_key":"k-1""#))
        let tokens = try workspace.trellis("plugins", "call", "analyzer.whitespace", "--input", #"{"text":"A b"}"#)
        #expect(tokens.stdout.contains("\"term\": \"a\""))
        let decision = try workspace.trellis("plugins", "call", "recovery.fixed-delay", "--input",
                                             #"{"error_class":"rate_limited","retry_after_ms":7000}"#)
        #expect(decision.stdout.contains("\"delay_ms\": 7000"))
        let failure = try workspace.trellis("plugins", "call", "provider.offline", "--input", #"{"messages":[]}"#)
        #expect(failure.status == 2)
        #expect(failure.stderr.contains("(config)"))
    }

    @Test func versionAndHelp() throws {
        let workspace = try Workspace()
        let version = try workspace.trellis("version", "--json")
        #expect(version.stdout.contains("\"abi\" : \"1.4.0\""))
        let help = try workspace.trellis("--help")
        for command in ["plugins", "registry", "demo", "bench", "version"] { #expect(help.stdout.contains(command)) }
        let listHelp = try workspace.trellis("plugins", "list", "--help")
        #expect(listHelp.stdout.contains("--config"))
        #expect(listHelp.stdout.contains("--plugin"))
    }

    @Test func demoPushesThroughAllFourKinds() throws {
        let workspace = try Workspace()
        // The checkout's own deployment config, with this workspace's stamped registry.
        let checkoutConfig = try String(contentsOfFile: "\(CLI.packageRoot)/trellis.yaml", encoding: .utf8)
        try workspace.write("trellis.yaml", "registry: [registry]\n" + checkoutConfig)
        let result = try workspace.trellis("demo")
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("Workflows whose steps are plugins."))
        #expect(result.stdout.contains("the@0[0..<3]"))
        #expect(result.stdout.contains("retry(afterMilliseconds: 5000)"))
        #expect(result.stdout.contains("Demo complete"))
        let messageLine = result.stdout.split(separator: "\n").firstIndex { $0.contains("\"channel\":\"channel.stdout\"") }
        let heading = result.stdout.split(separator: "\n").firstIndex { $0.contains("1. channel.stdout") }
        #expect(messageLine != nil && heading != nil && messageLine! > heading!, "plugin output comes in order")
    }
}
