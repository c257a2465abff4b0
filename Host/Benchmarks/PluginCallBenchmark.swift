import CTrellisABI
import Foundation
import TrellisCore
import TrellisPluginHost

/// Measures the cost of one call across the plugin boundary: a no-op health
/// check, called through the raw C function pointer and through the host's
/// Swift wrapper (`PluginInstance.checkHealth`).
public struct PluginCallBenchmark {
    public struct Result: Sendable, Codable {
        public var plugin: String
        public var language: String
        public var path: String
        /// Median nanoseconds per call over the rounds.
        public var nanosecondsPerCall: Double
        public var calls: Int
    }

    public var iterations: Int
    public var rounds: Int

    public init(iterations: Int = 2_000_000, rounds: Int = 5) {
        self.iterations = iterations
        self.rounds = rounds
    }

    /// Runs both paths against `instance`; `language` labels the plugin.
    public func run(_ instance: PluginInstance, language: String) throws -> [Result] {
        guard let table = instance.library.interface(TRELLIS_INTERFACE_HEALTH_V1)?
            .assumingMemoryBound(to: trellis_health_v1_t.self), let check = table.pointee.check else {
            throw PluginCallError(.config, "the plugin offers no trellis.health/1 probe to call", pluginID: instance.info.id)
        }
        let raw = instance.raw
        let rawNanoseconds = measure {
            var failures = 0
            for _ in 0..<iterations {
                let (status, _) = withReply { check(raw, $0) }
                if status != TRELLIS_OK { failures += 1 }
            }
            return failures
        }
        let wrapperNanoseconds = measure {
            var failures = 0
            for _ in 0..<iterations {
                do { try instance.checkHealth() } catch { failures += 1 }
            }
            return failures
        }
        return [
            Result(plugin: instance.info.id, language: language, path: "raw C ABI", nanosecondsPerCall: rawNanoseconds,
                   calls: iterations * rounds),
            Result(plugin: instance.info.id, language: language, path: "Swift wrapper",
                   nanosecondsPerCall: wrapperNanoseconds, calls: iterations * rounds),
        ]
    }

    /// Median ns per iteration over the rounds, after one warm-up round.
    private func measure(_ body: () -> Int) -> Double {
        _ = body()
        var samples: [Double] = []
        var failures = 0
        for _ in 0..<rounds {
            let start = DispatchTime.now().uptimeNanoseconds
            failures += body()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(iterations))
        }
        precondition(failures == 0, "the no-op call failed during the benchmark")
        return samples.sorted()[samples.count / 2]
    }
}
