import Foundation
import Synchronization
import TrellisSDK

/// fixture.gate — a recovery strategy that admits, delays or rejects
/// attempts as its policy says, for testing the runner's admission path.
final class Gate: RecoveryPlugin {
    struct Policy: Decodable, Sendable {
        /// Attempts to reject before they start (failing fast as retryable).
        var reject: [Int]?
        /// Attempts to hold back once, for this many milliseconds.
        var delayMilliseconds: UInt64?
        var delay: [Int]?
        /// How long deciding about a failure takes (a slow third-party strategy).
        var decideSleepMilliseconds: UInt32?
        /// How long admitting an attempt takes.
        var admitSleepMilliseconds: UInt32?

        enum CodingKeys: String, CodingKey {
            case reject, delay
            case delayMilliseconds = "delay_ms"
            case decideSleepMilliseconds = "decide_sleep_ms"
            case admitSleepMilliseconds = "admit_sleep_ms"
        }
    }

    static let id = "fixture.gate"
    static let version = "0.0.1"
    static let summary = "Admits, delays or rejects attempts on request (a test fixture)."

    /// Attempts already held back, by "step/attempt".
    let delayed = Mutex<Set<String>>([])

    init(configuration: EmptyConfiguration, host: TrellisHost) throws {}

    func admit(_ attempt: Attempt, policy: Policy, context: CallContext) throws -> Admission {
        if let milliseconds = policy.admitSleepMilliseconds { usleep(milliseconds * 1000) }
        if policy.reject?.contains(attempt.attempt) == true {
            return .reject(.retryable, message: "the gate is closed for attempt \(attempt.attempt)")
        }
        if let milliseconds = policy.delayMilliseconds, policy.delay?.contains(attempt.attempt) == true {
            let key = "\(context.stepID)/\(attempt.attempt)"
            let first = delayed.withLock { $0.insert(key).inserted }
            if first { return .delay(milliseconds: milliseconds) }
        }
        return .proceed
    }

    func decide(_ failure: Failure, policy: Policy, context: CallContext) throws -> RecoveryDecision {
        if let milliseconds = policy.decideSleepMilliseconds { usleep(milliseconds * 1000) }
        return .pass
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(Gate.self) }
