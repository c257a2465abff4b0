import Foundation
import Testing

/// The path a plugin author takes: a separate SwiftPM package that depends
/// on the SDK (docs/examples/hello-plugin), built with `swift build`, given a
/// manifest, stamped, enabled in a deployment config and called.
@Suite struct ThirdPartyPluginTests {
    static let examplePackage = "\(CLI.packageRoot)/docs/examples/hello-plugin"
    static let scratch = "\(CLI.packageRoot)/.build-example"

    /// Builds the example package (once per test run) and returns its build
    /// folder. The build waits on a thread of its own, not on one of Swift's
    /// cooperative threads, which the async tests beside it need.
    actor Build {
        static let shared = Build()
        private var result: Result<String, WorkspaceError>?

        func get() async throws -> String {
            if let result { return try result.get() }
            let swift = ProcessInfo.processInfo.environment["SWIFT_EXEC_TRELLIS"] ?? "/usr/bin/env"
            let outcome: Result<String, WorkspaceError>
            do {
                let build = try await CLI.runOffPool(swift, ["swift", "build", "--package-path", examplePackage,
                                                             "--scratch-path", scratch], in: CLI.packageRoot)
                outcome = build.status == 0 ? .success("\(scratch)/debug")
                    : .failure(WorkspaceError(message: "swift build of the example failed:\n\(build.stdout)\n\(build.stderr)"))
            } catch {
                outcome = .failure(WorkspaceError(message: "\(error)"))
            }
            result = outcome
            return try outcome.get()
        }
    }

    /// A plugin author resolves the SDK package and nothing else: none of
    /// the host's dependencies (GRDB, Yams, swift-crypto, …) reach a plugin.
    @Test func theExamplePluginDependsOnTheSDKPackageAlone() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-deps-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let shown = try await CLI.runOffPool("/usr/bin/env", ["swift", "package", "--package-path", Self.examplePackage, "--scratch-path", scratch,
                                                 "show-dependencies", "--format", "json"], in: CLI.packageRoot)
        #expect(shown.status == 0, "\(shown.stderr)")
        let root = try #require(try json(shown.stdout) as? [String: Any])
        let dependencies = try #require(root["dependencies"] as? [[String: Any]])
        #expect(dependencies.map { $0["path"] as? String } == ["\(CLI.packageRoot)/SDK"], "only the SDK package")
        #expect((dependencies.first?["dependencies"] as? [Any])?.isEmpty == true, "and the SDK depends on nothing")
    }

    func workspace(granting secret: String?, greeting: String = "Hi") async throws -> Workspace {
        let libraries = try await Build.shared.get()
        let workspace = try Workspace()
        let stamp = try workspace.trellis("registry", "stamp", "--source", "\(Self.examplePackage)/registry",
                                          "--libraries", libraries, "--output", "\(workspace.path)/example-registry")
        #expect(stamp.status == 0, "\(stamp.stderr)")
        try workspace.write("trellis.yaml", """
            plugin_paths: [\(libraries)]
            registry: [example-registry]
            plugins:
              channel.hello:
                config: { greeting: "\(greeting)" }
            \(secret.map { "    secrets: { \($0): \"${env:HELLO_API_KEY}\" }" } ?? "")
            """)
        return workspace
    }

    @Test(.timeLimit(.minutes(10)))
    func theExamplePluginBuildsLoadsAndDelivers() async throws {
        let workspace = try await workspace(granting: "api_key")
        let key = "key-\(UUID().uuidString)"
        let list = try workspace.trellis("plugins", "list", "--json", environment: ["HELLO_API_KEY": key])
        #expect(list.status == 0, "\(list.stdout)\n\(list.stderr)")
        #expect(list.stdout.contains("\"state\" : \"ok\""))

        let call = try workspace.trellis("plugins", "call", "channel.hello", "--input", #"{"to":"Ada"}"#,
                                         "--log-level", "info", environment: ["HELLO_API_KEY": key])
        #expect(call.status == 0, "\(call.stderr)")
        #expect(call.stdout.contains("\"text\": \"Hi, Ada!\""))
        #expect(call.stderr.contains("greeting Ada"), "the plugin logs through the host")
        #expect(call.stderr.contains("plugin.id=channel.hello"))
        for output in [list.stdout, list.stderr, call.stdout, call.stderr] { #expect(!output.contains(key)) }
    }

    @Test(.timeLimit(.minutes(10)))
    func theExamplePluginWithoutItsSecret() async throws {
        let unset = try await workspace(granting: "api_key")
        let missing = try unset.trellis("plugins", "list")
        #expect(missing.status == 1)
        #expect(missing.stdout.contains("${env:HELLO_API_KEY}, which is not set"))

        let ungranted = try await workspace(granting: nil)
        let refused = try ungranted.trellis("plugins", "list", environment: ["HELLO_API_KEY": "long-enough-key"])
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("api_key' is not granted"), "\(refused.stdout)")

        let empty = try await workspace(granting: "api_key", greeting: "")
        let rejected = try empty.trellis("plugins", "list", environment: ["HELLO_API_KEY": "long-enough-key"])
        #expect(rejected.status == 1)
        #expect(rejected.stdout.contains("the plugin rejected its config: `greeting` is empty"), "\(rejected.stdout)")

        let wrong = try await workspace(granting: "token")
        let undeclared = try wrong.trellis("plugins", "list", environment: ["HELLO_API_KEY": "long-enough-key"])
        #expect(undeclared.status == 1)
        #expect(undeclared.stdout.contains("does not ask for"))
    }
}
