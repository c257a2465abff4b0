import Foundation
import Testing
import TrellisCore
import TrellisPluginHost
@testable import TrellisRuntime

/// Streams that fall back mid-answer: cut, stalled, and the two ways the
/// next deployment takes over.
@Suite struct ModelRouterStreamTests {
    func texts(_ events: [ModelRouter.StreamEvent]) -> [String] {
        events.compactMap { if case .text(let text, _) = $0 { text } else { nil } }
    }

    @Test func aCutStreamContinuesOnTheNextDeploymentAsOneStream() throws {
        let harness = try RouterHarness("""
            models:
              groups:
                fast:
                  deployments:
                    - { plugin: provider.openai, model: cutter }
                    - { plugin: provider.anthropic, model: good-claude }
            """)
        let (answer, events) = try harness.ask("fast", stream: true)
        #expect(texts(events) == ["Hel", "lo", " (continued)"])
        #expect(events.first == .text("Hel", deployment: "provider.openai/cutter"))
        #expect(events.last == .text(" (continued)", deployment: "provider.anthropic/good-claude"))
        #expect(answer.text == "Hello (continued)")
        #expect(answer.output["parts"] == [["deployment": "provider.openai/cutter", "text": "Hello"],
                                           ["deployment": "provider.anthropic/good-claude", "text": " (continued)"]])
        #expect(answer.attempts.first?.reason == "stream_broken")
        // The fallback was handed the partial answer to go on from.
        let last = try #require(harness.models.log.seen.withLock { $0.last })
        #expect(last["messages"]?.arrayValue?.last == ["role": "assistant", "content": "Hello"])
    }

    @Test func restartModeDiscardsThePartialAnswer() throws {
        let harness = try RouterHarness("""
            models:
              groups:
                fast:
                  stream: { on_failure: restart }
                  deployments:
                    - { plugin: provider.openai, model: cutter }
                    - { plugin: provider.openai, model: good-again }
            """)
        let (answer, events) = try harness.ask("fast", stream: true)
        #expect(events.contains(.restart(from: "provider.openai/cutter", to: "the next deployment")))
        #expect(answer.text == "answer from good-again")
        #expect(answer.output["parts"] == nil)
        let last = try #require(harness.models.log.seen.withLock { $0.last })
        #expect(last["messages"]?.arrayValue?.count == 1, "started over from the user's message")
    }

    @Test func aStalledStreamMovesOnAfterItsIdleTimeout() throws {
        let harness = try RouterHarness("""
            models:
              groups:
                fast:
                  stream: { idle_timeout: 300ms }
                  deployments:
                    - { plugin: provider.openai, model: staller }
                    - { plugin: provider.openai, model: good-c }
            """)
        let started = Date()
        let (answer, events) = try harness.ask("fast", stream: true)
        #expect(texts(events) == ["Hel", " (continued)"])
        #expect(answer.attempts.first?.reason == "stream_broken")
        #expect(answer.attempts.first?.message.contains("stalled") == true)
        #expect(Date().timeIntervalSince(started) < 20, "it did not wait for the server's 30 s silence to end")
    }

    @Test func aFailureBeforeTheFirstTokenFallsBackToo() throws {
        let harness = try RouterHarness("""
            models:
              groups:
                fast:
                  deployments: [{ plugin: provider.openai, model: down }, { plugin: provider.openai, model: good-d }]
            """)
        let (answer, events) = try harness.ask("fast", stream: true)
        #expect(events == [.text("answer from good-d", deployment: "provider.openai/good-d")])
        #expect(answer.output["parts"] == nil)
    }
}
