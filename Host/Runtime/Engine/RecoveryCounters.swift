import Metrics
import Synchronization

/// How often each recovery strategy decided what: kept in memory for
/// `snapshot()` and reported through swift-metrics as
/// `trellis_recovery_decisions_total{strategy, decision}`, so whichever
/// metrics backend the host bootstraps sees them.
public final class RecoveryCounters: Sendable {
    private let counts = Mutex<[Key: Int]>([:])

    public struct Key: Hashable, Sendable, CustomStringConvertible {
        public var strategy: String
        public var decision: String
        public var description: String { "\(strategy)/\(decision)" }
    }

    public init() {}

    func count(strategy: String, decision: String) {
        counts.withLock { $0[Key(strategy: strategy, decision: decision), default: 0] += 1 }
        Counter(label: "trellis_recovery_decisions_total",
                dimensions: [("strategy", strategy), ("decision", decision)]).increment()
    }

    /// The counts so far, by strategy and decision.
    public func snapshot() -> [Key: Int] {
        counts.withLock { $0 }
    }
}
