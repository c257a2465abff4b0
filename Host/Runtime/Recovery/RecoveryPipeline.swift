import Foundation
import Metrics
import TrellisCore
import TrellisPluginHost

/// A recovery pipeline: strategies written outermost first (as in Polly),
/// the one place their calls are made, for workflow steps, notification
/// deliveries and (later) the model router alike.
///
/// - **Admission**, before an attempt: outermost first; a strategy may
///   delay the attempt, reject it, or give it a deadline or a hedging plan.
/// - **Decision**, after a failure: innermost first; the first strategy that
///   does not pass decides. When all pass, the failure stands.
/// - **Outcome**, after every attempt: told to every strategy (breakers and
///   rate limits keep their state from it).
///
/// A strategy that fails to answer is never swallowed: the failure comes
/// back with the result (`StrategyFailure`) for the caller to record, and
/// is counted in `trellis_recovery_decisions_total{decision="strategy_failed"}`.
///
/// The pipeline holds no state of its own and is `Sendable`: decisions and
/// outcomes are asked on worker threads, so a slow or hanging third-party
/// strategy holds up only the attempt it decides on.
package struct RecoveryPipeline: Sendable {
    package struct Entry: Sendable {
        var uses: String
        var with: JSONValue
        /// The parameters as JSON, serialized once.
        var policy: [UInt8]
    }

    package let entries: [Entry]
    let plugins: @Sendable (String) -> PluginInstance?

    package init(_ entries: [RecoveryEntry], plugins: @escaping @Sendable (String) -> PluginInstance?) {
        self.entries = entries.map { Entry(uses: $0.uses, with: $0.with, policy: $0.with.jsonBytes()) }
        self.plugins = plugins
    }

    package var isEmpty: Bool { entries.isEmpty }

    /// A strategy that could not answer.
    package struct StrategyFailure: Sendable, Equatable {
        package var strategy: String
        package var message: String
    }

    // MARK: - Admission

    package enum Admission: Sendable {
        case proceed(attemptTimeout: Double?, hedging: (strategy: String, plan: HedgePlan)?)
        case delay(milliseconds: UInt64, strategy: String)
        case reject(PluginCallError.Summary, strategy: String)
    }

    /// Asks each strategy, outermost first, whether the attempt may start.
    /// A strategy that fails to answer admits it, and is reported.
    package func admit(attempt: Int, elapsed: Double, key: String, context: PluginCallContext) -> (Admission, [StrategyFailure]) {
        let (admission, failures, _) = timedAdmit(attempt: attempt, elapsed: elapsed, key: key, context: context)
        return (admission, failures)
    }

    /// `admit`, also naming the strategy that took longest to answer and how
    /// long (seconds), so a caller can tell a slow one.
    package func timedAdmit(attempt: Int, elapsed: Double, key: String, context: PluginCallContext)
        -> (Admission, [StrategyFailure], slowest: (strategy: String, seconds: Double)?) {
        var slowest: (strategy: String, seconds: Double)?
        func timed<T>(_ strategy: String, _ body: () throws(PluginCallError) -> T) throws(PluginCallError) -> T {
            let started = DispatchTime.now().uptimeNanoseconds
            defer {
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                if seconds > (slowest?.seconds ?? -1) { slowest = (strategy, seconds) }
            }
            return try body()
        }
        var attemptTimeout: Double?
        var hedging: (strategy: String, plan: HedgePlan)?
        var failures: [StrategyFailure] = []
        for entry in entries {
            guard let strategy = plugins(entry.uses) else { continue }
            let decision: AdmissionDecision
            do {
                decision = try timed(entry.uses) { () throws(PluginCallError) in
                    try strategy.admit(attempt: UInt32(attempt), elapsedMilliseconds: UInt64(max(0, elapsed) * 1000),
                                       key: key, policyJSON: entry.policy, context: context)
                }
            } catch {
                failures.append(failed(entry.uses, "admitting the attempt", error))
                continue
            }
            switch decision {
            case .proceed(let milliseconds, let plan):
                if let milliseconds { attemptTimeout = min(attemptTimeout ?? .infinity, Double(milliseconds) / 1000) }
                if let plan, hedging == nil { hedging = (entry.uses, plan) }
            case .delay(let milliseconds):
                return (.delay(milliseconds: milliseconds, strategy: entry.uses), failures, slowest)
            case .reject(let summary):
                return (.reject(summary, strategy: entry.uses), failures, slowest)
            }
        }
        return (.proceed(attemptTimeout: attemptTimeout, hedging: hedging), failures, slowest)
    }

    // MARK: - Decision

    /// What the pipeline decided about a failure.
    package enum Verdict: Sendable, Equatable {
        /// A strategy decided (anything but `pass`).
        case decided(RecoveryDecision, strategy: String)
        /// Every strategy passed: the failure stands.
        case exhausted
        /// A strategy is not loaded or failed to answer: the failure stands, for that reason.
        case broken(StrategyFailure)
    }

    /// Asks each strategy, innermost first, what to do about a failure;
    /// `skip` lets the caller go on outwards past a decision it cannot serve
    /// (a `use_cached` with nothing cached), which it reports itself.
    package func decide(_ failure: RecoveryFailure, context: PluginCallContext,
                from start: Int? = nil) -> (verdict: Verdict, index: Int) {
        var index = start ?? entries.count - 1
        while index >= 0 {
            let entry = entries[index]
            guard let strategy = plugins(entry.uses) else {
                return (.broken(StrategyFailure(strategy: entry.uses, message: "recovery plugin \(entry.uses) is not loaded")), index)
            }
            var asked = failure
            asked.policy = entry.with
            do {
                let decision = try strategy.decide(asked, context: context)
                if decision != .pass { return (.decided(decision, strategy: entry.uses), index) }
            } catch {
                return (.broken(failed(entry.uses, "deciding", error)), index)
            }
            index -= 1
        }
        return (.exhausted, -1)
    }

    // MARK: - Outcome

    /// Tells every strategy how an attempt ended (nil: it succeeded).
    package func record(key: String, result: ErrorClass?, duration: Double) -> [StrategyFailure] {
        var failures: [StrategyFailure] = []
        for entry in entries.reversed() {
            guard let strategy = plugins(entry.uses) else { continue }
            do {
                try strategy.record(key: key, result: result, durationMilliseconds: UInt64(max(0, duration) * 1000),
                                    policyJSON: entry.policy)
            } catch {
                failures.append(failed(entry.uses, "recording an outcome", error))
            }
        }
        return failures
    }

    private func failed(_ strategy: String, _ doing: String, _ error: PluginCallError) -> StrategyFailure {
        Counter(label: "trellis_recovery_decisions_total", dimensions: [("strategy", strategy), ("decision", "strategy_failed")])
            .increment()
        return StrategyFailure(strategy: strategy, message: "recovery plugin \(strategy) failed \(doing): \(error.message)")
    }
}
