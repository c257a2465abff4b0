import Synchronization
import TrellisSDK

/// Injects failures (of a chosen class) and latency before attempts, at
/// given rates, to test how a pipeline copes. It does nothing unless the
/// deployment enables it (`config: { enabled: true }`), so a workflow can
/// keep chaos in its pipeline and a production deployment simply leaves it off.
final class Chaos: RecoveryPlugin {
    struct Configuration: Decodable, Sendable {
        var enabled: Bool?
    }

    struct Policy: Decodable, Sendable {
        var failureRate: Double?
        var failureClass: String?
        var latencyRate: Double?
        var latencyMilliseconds: UInt64?

        enum CodingKeys: String, CodingKey {
            case failureRate = "failure_rate"
            case failureClass = "failure_class"
            case latencyRate = "latency_rate"
            case latencyMilliseconds = "latency_ms"
        }
    }

    static let id = "recovery.chaos"
    static let version = "1.0.0"
    static let summary = "Injects failures and latency at given rates, when the deployment enables it."

    let enabled: Bool
    /// Attempts already slowed down, so each is delayed once.
    private let slowed = Mutex<Set<String>>([])

    init(configuration: Configuration, host: TrellisHost) throws {
        enabled = configuration.enabled ?? false
    }

    func admit(_ attempt: Attempt, policy: Policy, context: CallContext) throws -> Admission {
        guard enabled else { return .proceed }
        let attemptKey = "\(context.runID)/\(context.stepID)/\(attempt.attempt)"
        if let rate = policy.latencyRate, let latency = policy.latencyMilliseconds, Double.random(in: 0..<1) < rate,
           slowed.withLock({ $0.insert(attemptKey).inserted }) {
            return .delay(milliseconds: latency)
        }
        if let rate = policy.failureRate, Double.random(in: 0..<1) < rate {
            let name = policy.failureClass ?? "retryable"
            guard let code = PluginError.Code(name: name) else {
                throw PluginError.config("failure_class '\(name)' is not an error class")
            }
            return .reject(code, message: "chaos: injected \(name) failure")
        }
        return .proceed
    }

    func decide(_ failure: Failure, policy: Policy, context: CallContext) throws -> RecoveryDecision { .pass }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(Chaos.self) }
