import Foundation
import Synchronization
import Testing
import TrellisCore
@testable import TrellisPluginHost

/// A clock the test moves by hand, in Unix seconds.
final class ManualClock: Sendable {
    private let time = Mutex<Double>(1_800_000_000)
    var now: Double { time.withLock { $0 } }
    func advance(_ seconds: Double) { time.withLock { $0 += seconds } }
}

/// Plugin state kept in memory, standing in for the store between "restarts".
final class MemoryPluginState: PluginStateStore {
    private let values = Mutex<[String: [UInt8]]>([:])
    func load(plugin: String, key: String) -> [UInt8]? { values.withLock { $0["\(plugin)/\(key)"] } }
    func save(plugin: String, key: String, value: [UInt8]) -> Bool {
        values.withLock { $0["\(plugin)/\(key)"] = value }
        return true
    }
}

/// recovery.circuit-breaker, driven through the ABI on a clock the test controls.
@Suite struct CircuitBreakerTests {
    let clock = ManualClock()
    let state = MemoryPluginState()

    func breaker() throws -> PluginInstance {
        let library = try PluginLibrary.open(path: BuildProducts.library("TrellisRecoveryCircuitBreaker"))
        let clock = self.clock
        return try PluginInstance(library: library, logger: testLogger, clock: { clock.now }, state: state)
    }

    let policy: JSONValue = ["minimum_throughput": 4, "failure_ratio": 0.5, "window_size": 10, "break_ms": 10_000,
                             "half_open_probes": 1]

    func admit(_ breaker: PluginInstance, key: String = "channel.webhook", _ policy: JSONValue? = nil) throws -> AdmissionDecision {
        try breaker.admit(attempt: 1, key: key, policy: policy ?? self.policy)
    }

    func record(_ breaker: PluginInstance, failed: Bool, key: String = "channel.webhook", _ policy: JSONValue? = nil) throws {
        try breaker.record(key: key, result: failed ? .retryable : nil, durationMilliseconds: 5, policy: policy ?? self.policy)
    }

    @Test func closedOpenHalfOpenClosed() throws {
        let breaker = try breaker()
        // Closed: 2 of 4 failed reaches the ratio at the minimum throughput.
        for failed in [false, true, false] {
            #expect(try admit(breaker) == .proceed(attemptTimeoutMilliseconds: nil))
            try record(breaker, failed: failed)
        }
        #expect(try admit(breaker) == .proceed(attemptTimeoutMilliseconds: nil))
        try record(breaker, failed: true)
        // Open: fail fast with when to come back.
        guard case .reject(let summary) = try admit(breaker) else { Issue.record("the circuit must be open"); return }
        #expect(summary.message.hasPrefix("circuit open until "))
        #expect(summary.message.contains("channel.webhook"))
        #expect(summary.retryAfterMilliseconds == 10_000)
        clock.advance(6)
        guard case .reject(let later) = try admit(breaker) else { Issue.record("still open"); return }
        #expect(later.retryAfterMilliseconds == 4_000)
        // Half-open after the break: one probe goes through, the next waits.
        clock.advance(4)
        #expect(try admit(breaker) == .proceed(attemptTimeoutMilliseconds: nil))
        guard case .reject(let waiting) = try admit(breaker) else { Issue.record("one probe only"); return }
        #expect(waiting.message.contains("half-open"))
        try record(breaker, failed: false)
        // Closed again.
        #expect(try admit(breaker) == .proceed(attemptTimeoutMilliseconds: nil))
        #expect(try admit(breaker) == .proceed(attemptTimeoutMilliseconds: nil))
    }

    @Test func aFailedProbeOpensItAgain() throws {
        let breaker = try breaker()
        for _ in 0..<4 { try record(breaker, failed: true) }
        clock.advance(10)
        #expect(try admit(breaker) == .proceed(attemptTimeoutMilliseconds: nil))
        try record(breaker, failed: true)
        guard case .reject(let summary) = try admit(breaker) else { Issue.record("open again"); return }
        #expect(summary.retryAfterMilliseconds == 10_000)
    }

    @Test func keysAndTargetsHaveTheirOwnCircuits() throws {
        let breaker = try breaker()
        for _ in 0..<4 { try record(breaker, failed: true, key: "provider.openai") }
        #expect(try admit(breaker, key: "provider.openai") != .proceed(attemptTimeoutMilliseconds: nil))
        #expect(try admit(breaker, key: "provider.anthropic") == .proceed(attemptTimeoutMilliseconds: nil))
        var east = policy.objectValue!, west = policy.objectValue!
        east["target"] = "us-east"
        west["target"] = "eu-west"
        for _ in 0..<4 { try record(breaker, failed: true, key: "provider.gemini", .object(east)) }
        #expect(try admit(breaker, key: "provider.gemini", .object(east)) != .proceed(attemptTimeoutMilliseconds: nil))
        #expect(try admit(breaker, key: "provider.gemini", .object(west)) == .proceed(attemptTimeoutMilliseconds: nil))
    }

    @Test func aTimeWindowForgetsOldFailures() throws {
        let breaker = try breaker()
        var timed = policy.objectValue!
        timed["window"] = "time"
        timed["window_ms"] = 60_000
        for _ in 0..<3 { try record(breaker, failed: true, .object(timed)) }
        clock.advance(61)
        try record(breaker, failed: true, .object(timed))
        #expect(try admit(breaker, .object(timed)) == .proceed(attemptTimeoutMilliseconds: nil),
                "only one failure is inside the window")
        for _ in 0..<3 { try record(breaker, failed: true, .object(timed)) }
        #expect(try admit(breaker, .object(timed)) != .proceed(attemptTimeoutMilliseconds: nil))
    }

    @Test func anOpenCircuitSurvivesARestart() throws {
        let first = try breaker()
        for _ in 0..<4 { try record(first, failed: true) }
        // A new instance (a restarted host) with the same kept state.
        let second = try breaker()
        guard case .reject(let summary) = try admit(second) else { Issue.record("still open after a restart"); return }
        #expect(summary.message.hasPrefix("circuit open until"))
    }

    @Test func configAndPermanentClassesByDefault() throws {
        let breaker = try breaker()
        for _ in 0..<6 { try breaker.record(key: "k", result: .config, durationMilliseconds: 1, policy: policy) }
        #expect(try admit(breaker, key: "k") == .proceed(attemptTimeoutMilliseconds: nil), "config errors are not the target's fault")
    }
}
