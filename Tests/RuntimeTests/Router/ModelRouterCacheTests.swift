import Foundation
import Testing
import TrellisCore
import TrellisPluginHost
import TrellisStore
@testable import TrellisRuntime

/// The response cache, budgets and accounting, and the strategies.
@Suite struct ModelRouterCacheTests {
    @Test func aRepeatedRequestIsServedFromTheCacheAcrossARestart() throws {
        let harness = try RouterHarness("""
            models:
              cache: { ttl: 1h }
              groups:
                fast: { deployments: [{ plugin: provider.openai, model: good-cache, price: { input: 1, output: 1 } }] }
            """)
        let (first, _) = try harness.ask("fast")
        #expect(!first.cacheHit)
        let (second, streamed) = try harness.ask("fast", stream: true)
        #expect(second.cacheHit)
        #expect(second.text == "answer from good-cache")
        #expect(second.cost == 0)
        #expect(streamed == [.text("answer from good-cache", deployment: "provider.openai/good-cache")])
        #expect(harness.models.hits("good-cache") == 1)
        let (other, _) = try harness.ask("fast", "something else")
        #expect(!other.cacheHit, "a different request is a miss")

        harness.router = try harness.makeRouter()
        #expect(try harness.ask("fast").0.cacheHit, "the cache is kept in the store")
        harness.clock.advance(3601)
        #expect(try !harness.ask("fast").0.cacheHit, "past its TTL")
        #expect(harness.models.hits("good-cache") == 3)

        harness.router.flushUsage()
        let totals = try harness.store.usageTotals(by: .deployment, since: 0)
        #expect(totals.first { $0.key == "cache" }?.cacheHits == 2)
        #expect(totals.first { $0.key == "provider.openai/good-cache" }?.requests == 3)
    }

    @Test func theSemanticCacheAnswersAPromptThatMeansTheSame() throws {
        let harness = try RouterHarness("""
            models:
              cache: { ttl: 1h, semantic: { embedding: provider.openai/letters, threshold: 0.99 } }
              groups:
                fast: { deployments: [{ plugin: provider.openai, model: good-meaning }] }
            """)
        let (first, _) = try harness.ask("fast", "What is the capital of France?")
        #expect(!first.cacheHit)
        // The same letters, so the same vector to the letter-count embedding.
        let (same, _) = try harness.ask("fast", "what is the CAPITAL of france")
        #expect(same.cacheHit)
        #expect(same.similarity == 1)
        #expect(same.text == "answer from good-meaning")
        #expect(same.output["cache_similarity"] == 1)
        let (other, _) = try harness.ask("fast", "Tell me a joke about databases")
        #expect(!other.cacheHit, "a different prompt is below the threshold")
        let (otherParameters, _) = try harness.ask("fast", "what is the capital of France", extra: ["temperature": 1.5])
        #expect(!otherParameters.cacheHit, "other parameters are another scope")
        #expect(harness.models.hits("good-meaning") == 3)
    }

    @Test func theCacheEvictsTheLeastRecentlyUsedPastItsBytes() throws {
        let harness = try RouterHarness("""
            models:
              cache: { max_bytes: 300 }
              groups:
                fast: { deployments: [{ plugin: provider.openai, model: good-lru }] }
            """)
        _ = try harness.ask("fast", "one")
        _ = try harness.ask("fast", "two")
        _ = try harness.ask("fast", "one")     // one is now the most recent
        _ = try harness.ask("fast", "three")   // evicts two
        #expect(try harness.ask("fast", "one").0.cacheHit)
        #expect(try !harness.ask("fast", "two").0.cacheHit)
        #expect(try harness.store.cachedAnswers(since: 0).count <= 2, "evicted answers leave the store too")
    }

    @Test func aHardBudgetRefusesBeforeSending() throws {
        let harness = try RouterHarness("""
            models:
              budgets:
                - { scope: workflow, name: nightly, period: day, max_cost: 0.00006 }
              groups:
                fast: { deployments: [{ plugin: provider.openai, model: good-budget, price: { input: 2, output: 10 } }] }
            """)
        _ = try harness.ask("fast", workflow: "nightly")   // 10 × 2 + 4 × 10 tokens' worth: 60 µ$, and the next one's estimate passes the budget
        let refused = try #require(throws: RouterError.self) { try harness.ask("fast", workflow: "nightly") }
        #expect(refused.code == .budget)
        #expect(refused.errorClass == .permanent)
        #expect(refused.message.contains("0.00006 this day (UTC) for workflow 'nightly'"))
        #expect(refused.message.contains("is spent"))
        #expect(refused.message.contains("is left"))
        #expect(harness.models.hits("good-budget") == 1, "the refused request was never sent")
        _ = try harness.ask("fast", workflow: "other")
        harness.clock.advance(86_400)
        _ = try harness.ask("fast", workflow: "nightly")
        #expect(harness.models.hits("good-budget") == 3, "a new day")

        // A restarted host sums the store: the budget holds across it.
        harness.router = try harness.makeRouter()
        let again = try #require(throws: RouterError.self) { try harness.ask("fast", workflow: "nightly") }
        #expect(again.code == .budget)
    }

    @Test func strategiesOrderTheDeployments() throws {
        let harness = try RouterHarness("""
            models:
              groups:
                cheap:
                  strategy: cheapest
                  deployments:
                    - { plugin: provider.openai, model: good-dear, price: { input: 10, output: 30 } }
                    - { plugin: provider.openai, model: good-cheap, price: { input: 0.1, output: 0.4 } }
                weighted:
                  strategy: weighted
                  deployments:
                    - { plugin: provider.openai, model: good-w1, weight: 1 }
                    - { plugin: provider.openai, model: good-w3, weight: 3 }
                fastest:
                  strategy: lowest-latency
                  deployments:
                    - { plugin: provider.openai, model: good-l1 }
                    - { plugin: provider.openai, model: good-l2 }
            """, random: { 0.5 })
        #expect(try harness.ask("cheap").0.deployment == "provider.openai/good-cheap")
        // 0.5 of a total weight of 4 falls in the second (weight 3) deployment's share.
        #expect(try harness.ask("weighted").0.deployment == "provider.openai/good-w3")
        // Unmeasured deployments go first, so both get measured.
        let first = try harness.ask("fastest").0.deployment
        let second = try harness.ask("fastest").0.deployment
        #expect(Set([first, second]) == ["provider.openai/good-l1", "provider.openai/good-l2"])
    }

    @Test func badConfigIsReportedWithItsPlace() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-router-config-\(UUID().uuidString)").path
        let configuration = try DeploymentConfiguration.parse(text: """
            models:
              groups:
                fast:
                  fallbacks: { context_length: huge }
                  cooldown: { duration: soon }
                  deployments: [{ plugin: provider.openai, model: a }, { plugin: provider.openai, model: a }]
              budgets: [{ scope: workflow, max_cost: 1 }]
            """, file: "\(directory)/trellis.yaml", defaultPluginPaths: [])
        let error = try #require(throws: DeploymentConfigurationError.self) { try RouterSettings.parse(configuration) }
        let text = error.description
        #expect(text.contains("no model group is named 'huge'"))
        #expect(text.contains("'soon' is not a duration"))
        #expect(text.contains("two deployments are named 'provider.openai/a'"))
        #expect(text.contains("needs its `name`"))
        #expect(text.contains("trellis.yaml:"), "with the line")
    }
}
