import Foundation
import TrellisCore
import TrellisPluginHost
import TrellisRuntime

/// Measures what a recovery pipeline adds to a successful call: the
/// admission round (outermost first) before the attempt and the outcome
/// round after it, through the runner's own `RecoveryPipeline`.
public struct RecoveryBenchmark {
    public struct Result: Sendable, Codable {
        public var strategies: [String]
        public var nanosecondsPerCall: Double
        public var calls: Int
    }

    public var iterations: Int
    public var rounds: Int

    public init(iterations: Int = 200_000, rounds: Int = 5) {
        self.iterations = iterations
        self.rounds = rounds
    }

    /// `pipeline` is the strategies with their step parameters, outermost first.
    public func run(_ strategies: [(PluginInstance, JSONValue)]) throws -> Result {
        let byID = Dictionary(strategies.map { ($0.0.info.id, $0.0) }, uniquingKeysWith: { first, _ in first })
        let pipeline = RecoveryPipeline(strategies.map { RecoveryEntry(uses: $0.0.info.id, with: $0.1) }, plugins: { byID[$0] })
        let context = PluginCallContext(idempotencyKey: "bench/step", runID: "bench", stepID: "step", attempt: 1)
        func once() throws {
            let (admission, failures) = pipeline.admit(attempt: 1, elapsed: 0, key: "channel.null", context: context)
            guard case .proceed = admission, failures.isEmpty else {
                throw PluginCallError(.config, "the pipeline did not admit the attempt: \(admission) \(failures)", pluginID: "bench")
            }
            let recorded = pipeline.record(key: "channel.null", result: nil, duration: 0.001)
            if !recorded.isEmpty { throw PluginCallError(.config, "\(recorded)", pluginID: "bench") }
        }
        for _ in 0..<1000 { try once() }
        var samples: [Double] = []
        for _ in 0..<rounds {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<iterations { try once() }
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(iterations))
        }
        return Result(strategies: strategies.map(\.0.info.id), nanosecondsPerCall: samples.sorted()[samples.count / 2],
                      calls: iterations * rounds)
    }
}
