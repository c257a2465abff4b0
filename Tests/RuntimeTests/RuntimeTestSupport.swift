import Foundation
import Logging
import Testing
import TrellisCore
import TrellisPluginHost
import TrellisStore
@testable import TrellisRuntime

enum Build {
    static let directory: String = {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().path
    }()
    static func library(_ product: String) -> String { "\(directory)/lib\(product).so" }
}

/// A real engine over a real SQLite file, with the fixture and bundled
/// plugins loaded from this build.
final class Harness: @unchecked Sendable {
    let directory: String
    let store: SQLiteRunStore
    let plugins: PluginManager
    var engine: RunEngine
    let logger = Logger(label: "trellis.tests")
    let configuration: RuntimeConfiguration

    init(_ configure: (inout RuntimeConfiguration) -> Void = { _ in }) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-runtime-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        store = try SQLiteRunStore(path: "\(directory)/trellis.db")
        plugins = PluginManager(configuration: DeploymentConfiguration(pluginPaths: [], registryPaths: []), logger: logger)
        plugins.loadAll(extraLibraries: ["TrellisFixtureFlakyChannel", "TrellisRecoveryFixedDelay", "TrellisChannelStdout",
                                         "TrellisChannelNull", "TrellisRecoveryTimeout", "TrellisRecoveryFallback",
                                         "TrellisRecoveryDegrade", "TrellisRecoveryRetry", "TrellisRecoveryCircuitBreaker", "TrellisRecoveryRateLimit",
                                         "TrellisFixtureGate"].map(Build.library))
        var configuration = RuntimeConfiguration()
        configuration.maxConcurrentSteps = 4
        configure(&configuration)
        self.configuration = configuration
        engine = RunEngine(store: store, plugins: plugins, configuration: configuration, catalog: AnyCatalog(),
                           logger: logger)
    }

    deinit {
        engine.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A fresh engine over the same store and plugins (a host restart).
    func restart() {
        engine.shutdown()
        engine = RunEngine(store: store, plugins: plugins, configuration: configuration, catalog: AnyCatalog(),
                           logger: logger)
    }

    func workflow(_ yaml: String) throws -> (Workflow, String) {
        let result = WorkflowLoader(catalog: AnyCatalog(), allowExec: true).load(text: yaml, file: "test.yaml")
        guard let workflow = result.workflow else {
            throw HarnessError(message: result.problems.map(\.description).joined(separator: "\n"))
        }
        return (workflow, yaml)
    }

    /// Runs a workflow to its end and returns its final state.
    func run(_ yaml: String, inputs: [String: JSONValue] = [:]) async throws -> RunState {
        let (workflow, source) = try workflow(yaml)
        let id = try engine.start(workflow: workflow, source: source, inputs: inputs)
        return await engine.wait(for: id)
    }

    /// The step ids in the order their attempts started.
    func startOrder(_ runID: String) throws -> [String] {
        try store.events(run: runID).compactMap {
            if case .stepStarted(let step, _, _, _) = $0.event { step } else { nil }
        }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Accepts every plugin id (the tests use fixtures without manifests).
struct AnyCatalog: PluginCatalog {
    func entry(for id: String) -> PluginCatalogEntry? {
        PluginCatalogEntry(id: id, kind: id.hasPrefix("recovery.") || id == "fixture.gate" ? "recovery" : "channel",
                           available: true)
    }
    var knownIDs: [String] { [] }
}

/// Polls `condition` every 20 ms until it holds or `seconds` pass. The bound
/// is a count of polls, so a slow machine only waits longer.
func eventually(_ seconds: Double = 5, _ condition: () throws -> Bool) async throws {
    var polls = 0
    while try !condition(), Double(polls) * 0.02 < seconds {
        try await Task.sleep(for: .milliseconds(20))
        polls += 1
    }
}
