import Foundation
import Synchronization
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
    let store: SQLiteStore
    let plugins: PluginManager
    var engine: RunEngine
    let logger = Logger(label: "trellis.tests")
    let configuration: RuntimeConfiguration
    let now: @Sendable () -> Double

    init(clock: TestClock? = nil, _ configure: (inout RuntimeConfiguration) -> Void = { _ in }) throws {
        if let clock {
            now = { clock.now }
        } else {
            now = { Date().timeIntervalSince1970 }
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-runtime-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        store = try SQLiteStore(path: "\(directory)/trellis.db")
        // The bundled plugins load as a deployment would: through manifests
        // stamped from the checkout's registry (their flags matter to the
        // runner); the test fixtures load without manifests.
        let registry = "\(directory)/registry"
        try PluginRegistry.stamp(source: Checkout.registry, libraries: Build.directory, output: registry)
        let bundled = ["recovery.fixed-delay", "channel.stdout", "channel.null", "recovery.timeout", "recovery.fallback",
                       "recovery.degrade", "recovery.retry", "recovery.circuit-breaker", "recovery.rate-limit",
                       "recovery.cache-fallback", "recovery.hedge"]
        let deployment = try DeploymentConfiguration.parse(
            text: "registry: [\(registry)]\nplugins:\n" + bundled.map { "  \($0):\n" }.joined(),
            file: "\(directory)/trellis.yaml", defaultPluginPaths: [Build.directory])
        plugins = PluginManager(configuration: deployment, logger: logger)
        plugins.loadAll(extraLibraries: ["TrellisFixtureFlakyChannel", "TrellisFixtureGate"].map(Build.library))
        for id in bundled where plugins.instance(id) == nil {
            throw HarnessError(message: "\(id) did not load: \(plugins.status(id)?.reason ?? "unknown")")
        }
        var configuration = RuntimeConfiguration()
        configuration.maxConcurrentSteps = 4
        configure(&configuration)
        self.configuration = configuration
        engine = RunEngine(store: store, plugins: plugins, configuration: configuration, catalog: AnyCatalog(),
                           logger: logger, now: now)
    }

    deinit {
        engine.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A fresh engine over the same store and plugins (a host restart).
    func restart(catalog: any PluginCatalog = AnyCatalog()) {
        engine.shutdown()
        engine = RunEngine(store: store, plugins: plugins, configuration: configuration, catalog: catalog,
                           logger: logger, now: now)
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

    /// Starts a run of `workflow` from the engine's observer on the first
    /// event `when` matches (so the test's own task, which a busy
    /// cooperative pool may delay, does not decide when); its id, once started.
    func start(_ workflow: Workflow, source: String, when matches: @escaping @Sendable (RunEvent) -> Bool) -> StartedRun {
        let started = StartedRun()
        let engine = self.engine
        engine.observe { _, event, _ in
            guard matches(event), started.id == nil else { return }
            started.id = try? engine.start(workflow: workflow, source: source)
        }
        return started
    }

    /// A chain of `steps` channel.null steps, each needing the one before.
    static func chain(named name: String, steps: Int) -> String {
        var text = "name: \(name)\nsteps:\n  - { id: s0, uses: channel.null }\n"
        for index in 1..<steps { text += "  - { id: s\(index), uses: channel.null, needs: [s\(index - 1)] }\n" }
        return text
    }

    /// The step ids in the order their attempts started.
    func startOrder(_ runID: String) throws -> [String] {
        try store.events(run: runID).compactMap {
            if case .stepStarted(let step, _, _, _) = $0.event { step } else { nil }
        }
    }
}

/// The id of a run a test starts from an observer, once it has started.
final class StartedRun: Sendable {
    private let value = Mutex<String?>(nil)
    var id: String? {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}

/// A clock the test moves by hand.
final class TestClock: Sendable {
    private let time = Mutex<Double>(1_800_000_000)
    var now: Double { time.withLock { $0 } }
    func advance(_ seconds: Double) { time.withLock { $0 += seconds } }
}

enum Checkout {
    /// The checkout's `registry/` (the bundled plugins' source manifests).
    static let registry: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { break }
        }
        return url.appendingPathComponent("registry").path
    }()
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

/// Polls `condition` every 20 ms until it holds; throws when it still does
/// not after `seconds` (a count of polls, so a slow machine only waits longer).
func eventually(_ seconds: Double = 5, sourceLocation: Testing.SourceLocation = #_sourceLocation,
                _ condition: () throws -> Bool) async throws {
    var polls = 0
    while try !condition() {
        guard Double(polls) * 0.02 < seconds else {
            throw TimedOut(message: "the condition did not hold within \(seconds) s", sourceLocation: sourceLocation)
        }
        try await Task.sleep(for: .milliseconds(20))
        polls += 1
    }
}

struct TimedOut: Error, CustomStringConvertible {
    var message: String
    var sourceLocation: Testing.SourceLocation
    var description: String { "\(message) (waited at \(sourceLocation))" }
}
