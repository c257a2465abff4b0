import Testing
import TrellisCore
@testable import TrellisPluginHost

/// recovery.rate-limit and recovery.chaos, driven through the ABI.
@Suite struct RateLimitAndChaosTests {
    let clock = ManualClock()

    func plugin(_ product: String, _ config: JSONValue = [:]) throws -> PluginInstance {
        let library = try PluginLibrary.open(path: BuildProducts.library(product))
        let clock = self.clock
        return try PluginInstance(library: library, configuration: config, logger: testLogger, clock: { clock.now })
    }

    @Test func tokenBucketAdmitsTheBurstThenSpacesAttempts() throws {
        let limiter = try plugin("TrellisRecoveryRateLimit")
        let policy: JSONValue = ["rate": 10, "burst": 2, "max_wait_ms": 500]
        #expect(try limiter.admit(attempt: 1, key: "p", policy: policy) == .proceed(attemptTimeoutMilliseconds: nil))
        #expect(try limiter.admit(attempt: 1, key: "p", policy: policy) == .proceed(attemptTimeoutMilliseconds: nil))
        #expect(try limiter.admit(attempt: 1, key: "p", policy: policy) == .delay(milliseconds: 100))
        clock.advance(0.1)
        #expect(try limiter.admit(attempt: 1, key: "p", policy: policy) == .proceed(attemptTimeoutMilliseconds: nil))
        // Waiting longer than max_wait fails fast as rate limited.
        guard case .reject(let summary) = try limiter.admit(attempt: 1, elapsedMilliseconds: 450, key: "p", policy: policy) else {
            Issue.record("over the wait bound")
            return
        }
        #expect(summary.errorClass == .rateLimited)
        #expect(summary.retryAfterMilliseconds == 100)
        #expect(try limiter.admit(attempt: 1, key: "other", policy: policy) == .proceed(attemptTimeoutMilliseconds: nil),
                "each key has its own bucket")
    }

    @Test func aBulkheadLimitsAttemptsInFlight() throws {
        let bulkhead = try plugin("TrellisRecoveryRateLimit")
        let policy: JSONValue = ["mode": "concurrency", "limit": 1, "max_wait_ms": 200]
        #expect(try bulkhead.admit(attempt: 1, key: "p", policy: policy) == .proceed(attemptTimeoutMilliseconds: nil))
        #expect(try bulkhead.admit(attempt: 1, key: "p", policy: policy) == .delay(milliseconds: 20))
        guard case .reject(let summary) = try bulkhead.admit(attempt: 1, elapsedMilliseconds: 250, key: "p", policy: policy) else {
            Issue.record("waited too long")
            return
        }
        #expect(summary.errorClass == .rateLimited)
        try bulkhead.record(key: "p", result: nil, durationMilliseconds: 3, policy: policy)
        #expect(try bulkhead.admit(attempt: 1, key: "p", policy: policy) == .proceed(attemptTimeoutMilliseconds: nil))
    }

    @Test func chaosDoesNothingUnlessTheDeploymentEnablesIt() throws {
        let off = try plugin("TrellisRecoveryChaos")
        let policy: JSONValue = ["failure_rate": 1, "failure_class": "rate_limited"]
        #expect(try off.admit(attempt: 1, policy: policy) == .proceed(attemptTimeoutMilliseconds: nil))
        let on = try plugin("TrellisRecoveryChaos", ["enabled": true])
        guard case .reject(let summary) = try on.admit(attempt: 1, policy: policy) else {
            Issue.record("chaos must inject")
            return
        }
        #expect(summary.errorClass == .rateLimited)
        #expect(summary.message == "chaos: injected rate_limited failure")
        let slow: JSONValue = ["latency_rate": 1, "latency_ms": 250]
        let context = PluginCallContext(runID: "r", stepID: "s", attempt: 1)
        #expect(try on.admit(attempt: 1, policy: slow, context: context) == .delay(milliseconds: 250))
        #expect(try on.admit(attempt: 1, policy: slow, context: context) == .proceed(attemptTimeoutMilliseconds: nil),
                "an attempt is slowed once")
        var counts = (rejected: 0, admitted: 0)
        for attempt in 1...400 {
            switch try on.admit(attempt: UInt32(attempt), policy: ["failure_rate": 0.25]) {
            case .reject: counts.rejected += 1
            default: counts.admitted += 1
            }
        }
        #expect((50...150).contains(counts.rejected), "about a quarter: \(counts)")
    }
}
