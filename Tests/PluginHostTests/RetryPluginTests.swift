import Testing
import TrellisCore
@testable import TrellisPluginHost

/// recovery.retry, called through the ABI like the runner calls it.
@Suite struct RetryPluginTests {
    let retry: PluginInstance

    init() throws {
        let library = try PluginLibrary.open(path: BuildProducts.library("TrellisRecoveryRetry"))
        retry = try PluginInstance(library: library, configuration: ["delay_ms": 100, "max_attempts": 5], logger: testLogger)
    }

    func delay(_ attempt: UInt32, _ policy: JSONValue = [:], errorClass: ErrorClass = .retryable,
               retryAfter: UInt64 = 0) throws -> UInt64? {
        let decision = try retry.decide(RecoveryFailure(errorClass: errorClass, retryAfterMilliseconds: retryAfter,
                                                        message: "x", attempt: attempt, policy: policy))
        if case .retry(let milliseconds) = decision { return milliseconds }
        #expect(decision == .pass, "a retry that will not retry passes the failure on")
        return nil
    }

    @Test func backoffShapes() throws {
        #expect(try [1, 2, 3, 4].map { try delay($0) } == [100, 200, 400, 800], "exponential by default")
        #expect(try [1, 2, 3].map { try delay($0, ["backoff": "linear"]) } == [100, 200, 300])
        #expect(try [1, 2, 3].map { try delay($0, ["backoff": "constant"]) } == [100, 100, 100])
        #expect(try [1, 2, 3].map { try delay($0, ["multiplier": 3]) } == [100, 300, 900])
        #expect(try delay(4, ["max_delay_ms": 250]) == 250, "capped")
    }

    @Test func attemptsAndClasses() throws {
        #expect(try delay(5) == nil, "attempt 5 of 5 was the last")
        #expect(try delay(2, ["max_attempts": 2]) == nil, "the step's policy overrides the deployment")
        #expect(try delay(1, errorClass: .permanent) == nil)
        #expect(try delay(1, errorClass: .config) == nil)
        #expect(try delay(1, ["retry_on": ["permanent"]], errorClass: .permanent) == 100)
        #expect(try delay(1, ["retry_on": ["permanent"]], errorClass: .retryable) == nil)
    }

    @Test func retryAfterWins() throws {
        #expect(try delay(1, errorClass: .rateLimited, retryAfter: 5000) == 5000)
        #expect(try delay(3, errorClass: .rateLimited, retryAfter: 10) == 400, "a shorter retry-after does not shorten the backoff")
    }

    @Test func jitterStaysWithinItsBounds() throws {
        var full = Set<UInt64>()
        for _ in 0..<300 {
            let value = try #require(try delay(3, ["jitter": "full"]))
            #expect(value <= 400)
            full.insert(value)
            let equal = try #require(try delay(3, ["jitter": "equal"]))
            #expect((200...400).contains(equal))
            let decorrelated = try #require(try delay(3, ["jitter": "decorrelated", "max_delay_ms": 500]))
            #expect((100...500).contains(decorrelated), "between the base and min(cap, 3 × the previous delay)")
        }
        #expect(full.count > 50, "full jitter spreads the delays")
    }

    @Test func impossibleSettingsAreConfigErrors() throws {
        let library = try PluginLibrary.open(path: BuildProducts.library("TrellisRecoveryRetry"))
        #expect(throws: PluginLoadError.self) {
            try PluginInstance(library: library, configuration: ["max_attempts": 0], logger: testLogger)
        }
        do {
            _ = try delay(1, ["multiplier": 0.5])
            Issue.record("must fail")
        } catch let error as PluginCallError {
            #expect(error.errorClass == .config)
            #expect(error.message.contains("multiplier"))
        }
        do {
            _ = try delay(1, ["backoff": "fibonacci"])
            Issue.record("must fail")
        } catch let error as PluginCallError {
            #expect(error.errorClass == .config)
        }
    }
}
