import Foundation
import Synchronization
import TrellisSDK

/// A circuit breaker, keyed per plugin (and an optional target, such as an
/// endpoint), so one broken target does not stop the others.
///
/// Closed, it lets attempts through and watches outcomes in a count- or
/// time-based window. When at least `minimum_throughput` outcomes are in the
/// window and the failure ratio reaches `failure_ratio`, it opens: attempts
/// fail fast, without reaching the plugin, with "circuit open until …" and a
/// retry-after, for `break_ms`. Then it is half-open: `half_open_probes`
/// attempts go through; if they succeed it closes, if one fails it opens
/// again. Its state is kept by the host and survives a restart.
final class CircuitBreaker: RecoveryPlugin {
    struct Settings: Decodable, Sendable {
        var window: String?
        var windowSize: Int?
        var windowMilliseconds: Int64?
        var failureRatio: Double?
        var minimumThroughput: Int?
        var breakMilliseconds: Int64?
        var halfOpenProbes: Int?
        var target: String?
        var failuresOn: [String]?

        enum CodingKeys: String, CodingKey {
            case window, target
            case windowSize = "window_size"
            case windowMilliseconds = "window_ms"
            case failureRatio = "failure_ratio"
            case minimumThroughput = "minimum_throughput"
            case breakMilliseconds = "break_ms"
            case halfOpenProbes = "half_open_probes"
            case failuresOn = "failures_on"
        }
    }

    typealias Configuration = Settings
    typealias Policy = Settings

    static let id = "recovery.circuit-breaker"
    static let version = "1.0.0"
    static let summary = "Stops calling a failing plugin or target for a while, then probes it."

    /// One key's circuit. Persisted as JSON through the host on every transition.
    struct Circuit: Codable {
        enum State: String, Codable { case closed, open, halfOpen = "half_open" }
        var state = State.closed
        /// Recent outcomes: time (ms) and whether it failed.
        var outcomes: [Entry] = []
        var openUntil: Int64 = 0
        var probesStarted = 0
        var probeSuccesses = 0

        struct Entry: Codable {
            var at: Int64
            var failed: Bool
        }
    }

    let defaults: Settings
    let host: TrellisHost
    private let circuits = Mutex<[String: Circuit]>([:])

    init(configuration: Settings, host: TrellisHost) throws {
        defaults = configuration
        self.host = host
        if let window = configuration.window, !["count", "time"].contains(window) {
            throw PluginError.config("window must be count or time, not \(window)")
        }
    }

    /// A step's parameters over the deployment's, over the built-in defaults.
    struct Resolved {
        var timeWindow: Bool
        var windowSize: Int
        var windowMilliseconds: Int64
        var failureRatio: Double
        var minimumThroughput: Int
        var breakMilliseconds: Int64
        var halfOpenProbes: Int
        var target: String?
        var failuresOn: [String]?

        init(_ policy: Settings, over defaults: Settings) {
            timeWindow = (policy.window ?? defaults.window) == "time"
            windowSize = policy.windowSize ?? defaults.windowSize ?? 20
            windowMilliseconds = policy.windowMilliseconds ?? defaults.windowMilliseconds ?? 60_000
            failureRatio = policy.failureRatio ?? defaults.failureRatio ?? 0.5
            minimumThroughput = policy.minimumThroughput ?? defaults.minimumThroughput ?? 10
            breakMilliseconds = policy.breakMilliseconds ?? defaults.breakMilliseconds ?? 30_000
            halfOpenProbes = max(1, policy.halfOpenProbes ?? defaults.halfOpenProbes ?? 1)
            target = policy.target ?? defaults.target
            failuresOn = policy.failuresOn ?? defaults.failuresOn
        }

        /// Whether a failure of this class counts against the circuit
        /// (default: retryable, rate-limited and permanent ones).
        func counts(_ code: PluginError.Code) -> Bool {
            if let failuresOn { return failuresOn.contains(code.description) }
            return code == .retryable || code == .rateLimited || code == .permanent
        }

        func key(_ base: String) -> String {
            guard let target, !target.isEmpty else { return base }
            return "\(base)#\(target)"
        }
    }

    /// Runs `body` on a key's circuit, loading it from the host first and
    /// saving it when its state changed.
    private func withCircuit<R>(_ key: String, _ body: (inout Circuit) -> R) -> R {
        circuits.withLock { circuits in
            var circuit = circuits[key] ?? loadCircuit(key) ?? Circuit()
            let before = (circuit.state, circuit.openUntil)
            let result = body(&circuit)
            circuits[key] = circuit
            if before.0 != circuit.state || before.1 != circuit.openUntil {
                if let data = try? JSONEncoder().encode(circuit) {
                    host.saveState("circuit:\(key)", String(decoding: data, as: UTF8.self))
                }
                host.log(.info, "circuit \(key) is \(circuit.state.rawValue)")
            }
            return result
        }
    }

    private func loadCircuit(_ key: String) -> Circuit? {
        guard let text = host.loadState("circuit:\(key)") else { return nil }
        return try? JSONDecoder().decode(Circuit.self, from: Data(text.utf8))
    }

    func admit(_ attempt: Attempt, policy: Settings, context: CallContext) throws -> Admission {
        let now = host.nowMilliseconds
        let settings = Resolved(policy, over: defaults)
        let key = settings.key(attempt.key)
        let probes = settings.halfOpenProbes
        return withCircuit(key) { circuit in
            if circuit.state == .open && now >= circuit.openUntil {
                circuit.state = .halfOpen
                circuit.probesStarted = 0
                circuit.probeSuccesses = 0
            }
            switch circuit.state {
            case .closed:
                return .proceed
            case .open:
                let until = Date(timeIntervalSince1970: Double(circuit.openUntil) / 1000).formatted(.iso8601)
                return .reject(.retryable, message: "circuit open until \(until) for \(key): too many recent failures",
                               retryAfterMilliseconds: UInt64(circuit.openUntil - now))
            case .halfOpen:
                guard circuit.probesStarted < probes else {
                    return .reject(.retryable, message: "circuit half-open for \(key): waiting for its probe",
                                   retryAfterMilliseconds: 100)
                }
                circuit.probesStarted += 1
                return .proceed
            }
        }
    }

    func decide(_ failure: Failure, policy: Settings, context: CallContext) throws -> RecoveryDecision { .pass }

    func record(_ outcome: Outcome, policy: Settings) {
        let now = host.nowMilliseconds
        let settings = Resolved(policy, over: defaults)
        let countsAsFailure = outcome.errorClass.map(settings.counts) ?? false
        let probes = settings.halfOpenProbes
        let breakDuration = settings.breakMilliseconds
        withCircuit(settings.key(outcome.key)) { circuit in
            switch circuit.state {
            case .open:
                return
            case .halfOpen:
                if countsAsFailure {
                    circuit = Circuit(state: .open, openUntil: now + breakDuration)
                } else {
                    circuit.probeSuccesses += 1
                    if circuit.probeSuccesses >= probes { circuit = Circuit() }
                }
            case .closed:
                circuit.outcomes.append(Circuit.Entry(at: now, failed: countsAsFailure))
                if settings.timeWindow {
                    circuit.outcomes.removeAll { $0.at < now - settings.windowMilliseconds }
                } else if circuit.outcomes.count > settings.windowSize {
                    circuit.outcomes.removeFirst(circuit.outcomes.count - settings.windowSize)
                }
                let failures = circuit.outcomes.reduce(0) { $0 + ($1.failed ? 1 : 0) }
                if circuit.outcomes.count >= settings.minimumThroughput,
                   Double(failures) / Double(circuit.outcomes.count) >= settings.failureRatio {
                    circuit = Circuit(state: .open, openUntil: now + breakDuration)
                }
            }
        }
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(CircuitBreaker.self) }
