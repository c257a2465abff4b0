import Foundation
import Logging
import TrellisCore
import TrellisPluginHost
import TrellisRuntime
import TrellisStore

/// Runs a generated workflow of no-op plugin steps on a fresh durable store
/// and reports the runner's overhead per step.
public struct DAGBenchmark: Sendable {
    public enum Shape: String, Sendable, CaseIterable {
        /// One step, then all the others depending on it.
        case fan
        /// Each step depending on the one before.
        case chain
    }

    public struct Result: Sendable, Codable {
        public var shape: String
        public var steps: Int
        public var seconds: Double
        public var stepsPerSecond: Double
        public var microsecondsPerStep: Double
        public var peakRSSBytes: Int
        public var commits: Int
    }

    public var shape: Shape
    public var steps: Int
    /// The plugin every step uses.
    public var uses: String
    public var maxConcurrentSteps: Int

    public init(shape: Shape, steps: Int, uses: String = "channel.null", maxConcurrentSteps: Int = 8) {
        self.shape = shape
        self.steps = steps
        self.uses = uses
        self.maxConcurrentSteps = maxConcurrentSteps
    }

    public func workflow() -> Workflow {
        var list: [Step] = []
        for index in 0..<steps {
            let needs: [String] = switch shape {
            case .fan: index == 0 ? [] : ["s0"]
            case .chain: index == 0 ? [] : ["s\(index - 1)"]
            }
            list.append(Step(id: "s\(index)", uses: uses, with: ["n": .number(Double(index))], needs: needs))
        }
        return Workflow(name: "bench-\(shape.rawValue)", steps: list, file: "(generated)")
    }

    /// Runs the workflow `rounds` times, one run after another, on one engine
    /// and one store, as a host runs its workflows: the rounds after the
    /// first find the worker threads started and the store's files in use.
    /// Each round's peak RSS is its own (the peak starts over before it).
    public func run(rounds: Int, plugins: PluginManager, directory: String, logger: Logger) async throws -> [Result] {
        let store = try SQLiteStore(path: "\(directory)/bench.db")
        var configuration = RuntimeConfiguration()
        configuration.maxConcurrentSteps = maxConcurrentSteps
        let engine = RunEngine(store: store, plugins: plugins, configuration: configuration, logger: logger)
        defer { engine.shutdown() }
        let workflow = workflow()
        var results: [Result] = []
        for _ in 0..<max(1, rounds) {
            resetPeakResident()
            let start = DispatchTime.now().uptimeNanoseconds
            let id = try engine.start(workflow: workflow, source: "(generated)")
            let state = await engine.wait(for: id)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            guard state.status == .succeeded else {
                throw StoreError(.corrupt, "the benchmark run ended \(state.status.rawValue): \(state.message ?? "")")
            }
            // Before the events are read back to count the commits (the
            // bench's own bookkeeping, not the runner's).
            let peak = peakResidentBytes()
            let commits = try Set(store.events(run: id).map(\.time)).count
            results.append(Result(shape: shape.rawValue, steps: steps, seconds: seconds, stepsPerSecond: Double(steps) / seconds,
                                  microsecondsPerStep: seconds * 1e6 / Double(steps), peakRSSBytes: peak, commits: commits))
        }
        return results
    }
}

/// Starts the peak resident set size over from the current one (Linux:
/// writing 5 to `/proc/self/clear_refs`), so a later reading is the peak
/// since this call rather than since the process started.
public func resetPeakResident() {
    try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
}

/// The process's peak resident set size (VmHWM), in bytes.
public func peakResidentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return kilobytes * 1024
    }
    return 0
}
