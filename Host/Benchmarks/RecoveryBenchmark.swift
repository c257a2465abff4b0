import Foundation
import TrellisCore
import TrellisPluginHost

/// Measures what a recovery pipeline adds to a successful call: the
/// runner's admission round (outermost first) before the attempt and the
/// outcome round after it, through the same calls the runner makes.
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
    public func run(_ pipeline: [(PluginInstance, JSONValue)]) throws -> Result {
        // The runner serializes each entry's parameters once per step, not per call.
        let prepared = pipeline.map { ($0.0, $0.1.jsonBytes()) }
        func once() throws {
            for (strategy, policy) in prepared {
                _ = try strategy.admit(attempt: 1, key: "channel.null", policyJSON: policy)
            }
            for (strategy, policy) in prepared.reversed() {
                try strategy.record(key: "channel.null", result: nil, durationMilliseconds: 1, policyJSON: policy)
            }
        }
        for _ in 0..<1000 { try once() }
        var samples: [Double] = []
        for _ in 0..<rounds {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<iterations { try once() }
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(iterations))
        }
        return Result(strategies: pipeline.map(\.0.info.id), nanosecondsPerCall: samples.sorted()[samples.count / 2],
                      calls: iterations * rounds)
    }
}
