import Foundation
import Testing
import TrellisCore
import TrellisPluginHost
import TrellisStore
@testable import TrellisRuntime

/// The router's fallbacks, cooldowns and recovery, with real provider
/// plugins over real HTTP (see `ModelServer` for what each model does).
@Suite struct ModelRouterFallbackTests {
    @Test func orderedFallbackMovesOnAndSaysWhatWasTried() throws {
        let harness = try RouterHarness("""
            models:
              groups:
                fast:
                  deployments:
                    - { plugin: provider.openai, model: down }
                    - { plugin: provider.anthropic, model: good-claude, price: { input: 3, output: 15 } }
            """)
        let (answer, _) = try harness.ask("fast")
        #expect(answer.text == "answer from good-claude")
        #expect(answer.deployment == "provider.anthropic/good-claude")
        #expect(answer.attempts.map(\.deployment) == ["provider.openai/down", "provider.anthropic/good-claude"])
        #expect(answer.attempts.first?.errorClass == .retryable)
        #expect(abs(answer.cost - Double(10 * 3 + 4 * 15) / 1_000_000) < 1e-12)
        #expect(answer.output["cache_hit"] == false)
        #expect(harness.models.hits("down") == 1)
    }

    @Test func aDeploymentThatKeepsFailingCoolsDownAndComesBack() throws {
        let harness = try RouterHarness("""
            models:
              groups:
                fast:
                  cooldown: { failures: 2, window: 60s, duration: 30s }
                  deployments:
                    - { plugin: provider.openai, model: down }
                    - { plugin: provider.openai, model: good-a }
            """)
        _ = try harness.ask("fast")
        _ = try harness.ask("fast")
        #expect(harness.models.hits("down") == 2)
        let (third, _) = try harness.ask("fast")
        #expect(harness.models.hits("down") == 2, "cooling: not asked")
        #expect(third.attempts.map(\.deployment) == ["provider.openai/good-a"])
        harness.clock.advance(31)
        _ = try harness.ask("fast")
        #expect(harness.models.hits("down") == 3, "its cooldown is over")
    }

    @Test func aRateLimitCoolsForItsRetryAfter() throws {
        let harness = try RouterHarness("""
            models:
              groups:
                fast:
                  cooldown: { failures: 5, duration: 60s }
                  deployments:
                    - { plugin: provider.openai, model: limited }
                    - { plugin: provider.openai, model: good-b }
            """)
        let (first, _) = try harness.ask("fast")
        #expect(first.attempts.first?.errorClass == .rateLimited)
        #expect(first.attempts.first?.message.contains("cooling until") == true)
        _ = try harness.ask("fast")
        #expect(harness.models.hits("limited") == 1)
        harness.clock.advance(7.5)
        _ = try harness.ask("fast")
        #expect(harness.models.hits("limited") == 2, "Retry-After (7 s) wins over the group's 60 s")
    }

    @Test func whenEveryDeploymentCoolsItWaitsUpToItsBoundThenNamesEach() throws {
        let harness = try RouterHarness("""
            models:
              groups:
                patient:
                  wait_for_cooldown: 10s
                  deployments: [{ plugin: provider.openai, model: limited-once }]
                hasty:
                  wait_for_cooldown: 0s
                  deployments: [{ plugin: provider.openai, model: limited }]
            """)
        // limited-once: 429 (cooling 7 s), then the wait, then an answer.
        let error = try #require(throws: RouterError.self) { try harness.ask("patient") }
        #expect(error.code == .exhausted)
        let before = harness.clock.now
        let (answer, _) = try harness.ask("patient")
        #expect(answer.text == "answer from limited-once")
        #expect(harness.clock.now - before >= 6.9, "it waited for the cooldown")

        _ = try? harness.ask("hasty")
        let cooling = try #require(throws: RouterError.self) { try harness.ask("hasty") }
        #expect(cooling.code == .allCooling)
        #expect(cooling.errorClass == .rateLimited)
        #expect(cooling.message.contains("provider.openai/limited"))
        #expect(cooling.message.contains("back at"))
        #expect(cooling.retryAfterMilliseconds > 6000)
        #expect(harness.models.hits("limited") == 1)
    }

    @Test func contextAndContentRefusalsGoToTheirFallbackGroups() throws {
        let harness = try RouterHarness("""
            models:
              groups:
                short:
                  fallbacks: { context_length: long, content_policy: lenient }
                  deployments: [{ plugin: provider.openai, model: small }]
                careful:
                  fallbacks: { content_policy: lenient }
                  deployments: [{ plugin: provider.openai, model: prude }, { plugin: provider.openai, model: good-never }]
                long:
                  deployments: [{ plugin: provider.anthropic, model: good-long }]
                lenient:
                  deployments: [{ plugin: provider.openai, model: good-lenient }]
            """)
        let (long, _) = try harness.ask("short")
        #expect(long.deployment == "provider.anthropic/good-long")
        #expect(long.attempts.first?.reason == "context_length")
        let (lenient, _) = try harness.ask("careful")
        #expect(lenient.deployment == "provider.openai/good-lenient", "straight to the content-policy group")
        #expect(harness.models.hits("good-never") == 0)
    }

    @Test func theGroupsRecoveryPipelineRetriesADeploymentBeforeMovingOn() throws {
        let harness = try RouterHarness("""
            models:
              groups:
                steady:
                  recovery: [{ uses: recovery.retry, with: { max_attempts: 2, delay_ms: 500, jitter: none } }]
                  deployments:
                    - { plugin: provider.openai, model: flaky-once }
                    - { plugin: provider.openai, model: good-other }
            """)
        let before = harness.clock.now
        let (answer, _) = try harness.ask("steady")
        #expect(answer.deployment == "provider.openai/flaky-once", "recovery.retry asked for a second attempt")
        #expect(harness.models.hits("flaky-once") == 2)
        #expect(harness.models.hits("good-other") == 0)
        #expect(harness.clock.now - before >= 0.5, "after the strategy's delay")
    }

    @Test func aStrategyThatAlwaysRetriesCannotHoldARequest() throws {
        let harness = try RouterHarness("""
            models:
              groups:
                stuck:
                  recovery: [{ uses: recovery.retry, with: { max_attempts: 1000, delay_ms: 0, jitter: none } }]
                  deployments: [{ plugin: provider.openai, model: down }, { plugin: provider.openai, model: good-after }]
            """)
        let (answer, _) = try harness.ask("stuck")
        #expect(answer.deployment == "provider.openai/good-after")
        #expect(harness.models.hits("down") == ModelRouter.maxAttemptsPerDeployment)
    }

    @Test func twoInstancesOfOneProviderServeOneGroup() throws {
        // A second OpenAI-compatible endpoint: its own base URL, key and egress.
        let backup = try ModelServer()
        let harness = try RouterHarness("""
            models:
              groups:
                fast:
                  deployments:
                    - { plugin: provider.openai, model: down }
                    - { plugin: provider.openai@backup, model: good-backup }
            """, plugins: """
              provider.openai@backup:
                egress: [127.0.0.1]
                config: { base_url: "\(backup.url)/v1" }
            """)
        let (answer, _) = try harness.ask("fast")
        #expect(answer.deployment == "provider.openai@backup/good-backup")
        #expect(harness.models.hits("down") == 1)
        #expect(harness.models.hits("good-backup") == 0, "the first instance's server was not asked for it")
        #expect(backup.hits("good-backup") == 1, "the second instance went to its own base URL")
        #expect(try harness.ask("provider.openai@backup/good-direct").0.text == "answer from good-direct")
    }

    @Test func anUnknownModelSaysWhatThereIs() throws {
        let harness = try RouterHarness("""
            models:
              groups:
                fast: { deployments: [{ plugin: provider.offline, model: offline-echo }] }
            """)
        let error = try #require(throws: RouterError.self) { try harness.ask("fsat") }
        #expect(error.code == .unknownModel)
        #expect(error.message.contains("the groups are fast"))
        // A provider plugin named directly is a group of one.
        let (direct, _) = try harness.ask("provider.offline")
        #expect(direct.text == "echo: hi")
    }

    @Test func noKeyInAnyAttemptErrorOrStoredRow() throws {
        let harness = try RouterHarness("""
            models:
              groups:
                all-bad:
                  deployments: [{ plugin: provider.openai, model: down }, { plugin: provider.anthropic, model: small }]
            """)
        let error = try #require(throws: RouterError.self) { try harness.ask("all-bad") }
        #expect(error.code == .exhausted)
        #expect(error.attempts.count == 2)
        #expect(!error.message.contains(ModelServer.key))
        _ = try harness.ask("provider.openai/good-x")
        let file = try Data(contentsOf: URL(fileURLWithPath: "\(harness.directory)/trellis.db"))
        #expect(file.range(of: Data(ModelServer.key.utf8)) == nil)
    }
}
