import Synchronization
import TrellisCore
import TrellisPluginHost
import TrellisStore

/// What the router knows about each deployment (by plugin and model, so a
/// deployment in two groups shares it): recent failures, a cooldown,
/// requests in flight, a moving window of latency, and this minute's
/// requests and tokens for its rpm/tpm limits.
final class DeploymentHealth: Sendable {
    struct State: Sendable {
        var failures: [Double] = []
        /// Unix seconds; skipped until then.
        var coolingUntil: Double = 0
        var coolingReason = ""
        var inFlight = 0
        /// The last latencies, in seconds (at most `latencyWindow`).
        var latencies: [Double] = []
        var minuteStart: Double = 0
        var minuteRequests = 0
        var minuteTokens = 0
    }

    static let latencyWindow = 20
    private let states = Mutex<[String: State]>([:])

    /// Starts with the cooldowns another process recorded.
    init(cooldowns: [String: ModelCooldown] = [:]) {
        states.withLock { states in
            for (key, cooldown) in cooldowns {
                states[key] = State(coolingUntil: cooldown.until, coolingReason: cooldown.reason)
            }
        }
    }

    static func key(_ deployment: ModelDeployment) -> String { "\(deployment.plugin)/\(deployment.model)" }

    func state(_ deployment: ModelDeployment) -> State {
        states.withLock { $0[Self.key(deployment)] ?? State() }
    }

    /// The states of `deployments`, in order, read under one lock.
    func snapshot(_ deployments: [ModelDeployment]) -> [State] {
        states.withLock { states in deployments.map { states[Self.key($0)] ?? State() } }
    }

    /// When the deployment is cooling at `now`: until when, and why.
    func cooling(_ deployment: ModelDeployment, now: Double) -> (until: Double, reason: String)? {
        state(deployment).cooling(now: now)
    }

    func started(_ deployment: ModelDeployment, now: Double) {
        states.withLock { states in
            var state = states[Self.key(deployment)] ?? State()
            state.inFlight += 1
            if now - state.minuteStart >= 60 {
                state.minuteStart = now
                state.minuteRequests = 0
                state.minuteTokens = 0
            }
            state.minuteRequests += 1
            states[Self.key(deployment)] = state
        }
    }

    func succeeded(_ deployment: ModelDeployment, latency: Double, tokens: Int) {
        states.withLock { states in
            var state = states[Self.key(deployment)] ?? State()
            state.inFlight = max(0, state.inFlight - 1)
            state.latencies.append(latency)
            if state.latencies.count > Self.latencyWindow { state.latencies.removeFirst(state.latencies.count - Self.latencyWindow) }
            state.minuteTokens += tokens
            states[Self.key(deployment)] = state
        }
    }

    /// Notes a failure; returns the cooldown it started (until, reason), if any.
    /// A rate limit cools the deployment for its Retry-After (or the group's
    /// duration); other failures do when `policy.failures` fall in its window.
    /// Failures that belong to the request (too long, refused content, cancelled) do not count.
    @discardableResult
    func failed(_ deployment: ModelDeployment, error: PluginCallError, policy: ModelGroup.Cooldown,
                now: Double) -> (until: Double, reason: String)? {
        states.withLock { states in
            var state = states[Self.key(deployment)] ?? State()
            state.inFlight = max(0, state.inFlight - 1)
            defer { states[Self.key(deployment)] = state }
            if error.errorClass == .cancelled || error.reason == "context_length" || error.reason == "content_policy" {
                return nil
            }
            if error.errorClass == .rateLimited {
                let seconds = error.retryAfterMilliseconds > 0 ? Double(error.retryAfterMilliseconds) / 1000 : policy.durationSeconds
                state.coolingUntil = max(state.coolingUntil, now + seconds)
                state.coolingReason = "rate limited"
                return (state.coolingUntil, state.coolingReason)
            }
            state.failures = state.failures.filter { now - $0 < policy.windowSeconds } + [now]
            guard state.failures.count >= policy.failures else { return nil }
            state.failures = []
            state.coolingUntil = max(state.coolingUntil, now + policy.durationSeconds)
            state.coolingReason = "\(policy.failures) failures within \(formatDuration(policy.windowSeconds))"
                + (error.reason.map { ", the last \($0)" } ?? ", the last \(error.errorClass.rawValue)")
            return (state.coolingUntil, state.coolingReason)
        }
    }

    /// A stopped request that was neither a success nor a failure (the consumer stopped reading).
    func ended(_ deployment: ModelDeployment) {
        states.withLock { states in
            if var state = states[Self.key(deployment)] {
                state.inFlight = max(0, state.inFlight - 1)
                states[Self.key(deployment)] = state
            }
        }
    }

}

extension DeploymentHealth.State {
    /// Until when, and why, it is cooling at `now`; nil when it is not.
    func cooling(now: Double) -> (until: Double, reason: String)? {
        coolingUntil > now ? (coolingUntil, coolingReason) : nil
    }

    /// Why `deployment` cannot take a request now for its rpm/tpm limit, if so.
    func overLimit(_ deployment: ModelDeployment, now: Double, estimatedTokens: Int) -> String? {
        guard now - minuteStart < 60 else { return nil }
        if let rpm = deployment.rpm, minuteRequests >= rpm { return "at its limit of \(rpm) requests a minute" }
        if let tpm = deployment.tpm, minuteTokens + estimatedTokens > tpm { return "at its limit of \(tpm) tokens a minute" }
        return nil
    }

    /// The mean of the latency window; nil before the first success.
    var meanLatency: Double? { latencies.isEmpty ? nil : latencies.reduce(0, +) / Double(latencies.count) }
}
