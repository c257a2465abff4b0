import Foundation
import Testing
import TrellisCore
@testable import TrellisPluginHost

/// `trellis plugins check`'s suite passes on every bundled plugin, and
/// fails, saying why, on broken ones.
@Suite struct ConformanceTests {
    /// What the plugins with required settings get (the least that satisfies them).
    static func settings(_ id: String, scratch: TemporaryDirectory) -> (config: JSONValue, secrets: [String: String]) {
        switch id {
        case "analyzer.whitespace": (["max_token_length": 8], [:])
        case "analyzer.regex": (["pattern": "[a-z]+"], [:])
        case "channel.stdout": (["path": .string(scratch.file("stdout.jsonl"))], [:])
        case "channel.email": (["url": "smtp://127.0.0.1:9", "from": "trellis@example.com"], [:])
        case "channel.push": (["server": "http://127.0.0.1:9"], [:])
        case "channel.github": (["repository": "acme/web"], ["token": "t"])
        case "channel.slack", "channel.teams": ([:], ["webhook_url": "http://127.0.0.1:9/hook"])
        case "channel.sms": (["account_sid": "AC1", "from": "+15550001111"], ["auth_token": "t"])
        case "channel.webhook": (["url": "http://127.0.0.1:9/hook"], ["signing_secret": "whsec_MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE="])
        case "provider.anthropic", "provider.gemini": ([:], ["api_key": "k"])
        case "provider.openai", "provider.ollama": (["base_url": "http://127.0.0.1:9", "model": "m"], [:])
        default: ([:], [:])
        }
    }

    @Test func everyBundledPluginPasses() throws {
        let deployment = try StampedDeployment()
        let registry = PluginRegistry(directories: [deployment.registry])
        #expect(registry.ids.count >= 20)
        for id in registry.ids {
            let manifest = try #require(registry.manifest(for: id))
            let (config, secrets) = Self.settings(id, scratch: deployment.directory)
            var check = ConformanceCheck(library: BuildProducts.directory + "/" + manifest.library.file, manifest: manifest,
                                         configuration: config, secrets: secrets)
            check.threads = 4
            check.callsPerThread = 10
            let findings = check.run(logger: testLogger)
            let failed = findings.filter { $0.outcome == .failed }
            #expect(failed.isEmpty, "\(id): \(failed.map { "\($0.check): \($0.detail)" })")
            #expect(findings.contains { $0.check == "answer" }, "\(id) was called")
        }
    }

    /// `trellis plugins check` through the binary, as an author runs it,
    /// waited for on a thread of its own (not one of Swift's few cooperative ones).
    static func checkCommand(_ arguments: [String]) async throws -> (status: Int32, stdout: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try runCheck(arguments) }) }.start()
        }
    }

    private static func runCheck(_ arguments: [String]) throws -> (status: Int32, stdout: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(BuildProducts.directory)/trellis")
        process.arguments = ["plugins", "check"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    /// Under LeakSanitizer, no bundled plugin leaks over the whole suite's
    /// calls; a fixture that loses 64 bytes a call is caught, named by its
    /// function. (.ci/setup installs the runtime, Debian's liblsan0.)
    @Test(.timeLimit(.minutes(5)))
    func noBundledPluginLeaksAndALeakIsNamed() async throws {
        #expect(LeakReport.runtime != nil, "LeakSanitizer's runtime (liblsan0) is installed")
        let leaky = try await Self.checkCommand([BuildProducts.library("TrellisFixtureLeaky")])
        #expect(leaky.status == 1, "\(leaky.stdout)")
        let line = leaky.stdout.split(separator: "\n").first { $0.hasPrefix("✘ leaks:") }.map(String.init) ?? leaky.stdout
        #expect(line.contains("by fixture_tokenize (libTrellisFixtureLeaky.so+0x"), "\(line)")
        #expect(line.range(of: #"\d+ bytes in \d+ allocations leaked"#, options: .regularExpression) != nil, "\(line)")

        let deployment = try StampedDeployment()
        let registry = PluginRegistry(directories: [deployment.registry])
        for id in registry.ids {
            let manifest = try #require(registry.manifest(for: id))
            let (config, secrets) = Self.settings(id, scratch: deployment.directory)
            let checked = try await Self.checkCommand(
                [BuildProducts.directory + "/" + manifest.library.file, "--manifest", "\(deployment.registry)/\(id)/\(manifest.version).json",
                 "--with-config", config.jsonString()] + secrets.flatMap { ["--secret", "\($0.key)=\($0.value)"] })
            #expect(checked.stdout.contains("✔ leaks: LeakSanitizer found no leak"), "\(id): \(checked.stdout)")
            #expect(checked.status == 0, "\(id): \(checked.stdout)")
        }
    }

    @Test func brokenPluginsFailWithWhatToDo() throws {
        let nullFunction = ConformanceCheck(library: BuildProducts.library("TrellisFixtureNullFunction")).run(logger: testLogger)
        #expect(nullFunction.first?.outcome == .failed)
        #expect(nullFunction.first?.detail.contains("`tokenize` is NULL") == true)

        let failingCreate = ConformanceCheck(library: BuildProducts.library("TrellisFixtureFailingCreate")).run(logger: testLogger)
        let create = try #require(failingCreate.first { $0.check == "create and destroy" })
        #expect(create.outcome == .failed)
        #expect(create.detail.contains("--config"))

        // A manifest that says another version than the library's.
        let deployment = try StampedDeployment()
        var manifest = try #require(PluginRegistry(directories: [deployment.registry]).manifest(for: "provider.offline"))
        manifest.version = "9.9.9"
        let mismatch = ConformanceCheck(library: BuildProducts.library("TrellisProviderOffline"), manifest: manifest).run(logger: testLogger)
        let finding = try #require(mismatch.first { $0.check == "manifest" })
        #expect(finding.outcome == .failed)
        #expect(finding.detail.contains("its manifest says '9.9.9'"))

        // A config its schema refuses.
        let badConfig = ConformanceCheck(library: BuildProducts.library("TrellisProviderOffline"),
                                         manifest: try #require(PluginRegistry(directories: [deployment.registry]).manifest(for: "provider.offline")),
                                         configuration: ["model": 3]).run(logger: testLogger)
        #expect(badConfig.first { $0.check == "config" }?.outcome == .failed)

        // A provider answering something that is not a completion.
        let shapeless = ConformanceCheck(library: BuildProducts.library("TrellisFixtureFrozen12"),
                                         input: ["messages": [["role": "user", "content": "shape"]]]).run(logger: testLogger)
        let answer = try #require(shapeless.first { $0.check == "answer" })
        #expect(answer.outcome == .failed)
        #expect(answer.detail.contains("its text is integer"))
    }
}
