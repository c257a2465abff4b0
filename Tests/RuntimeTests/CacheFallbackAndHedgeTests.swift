import Foundation
import Testing
import TrellisCore
import TrellisStore
@testable import TrellisRuntime

/// recovery.cache-fallback and recovery.hedge in real runs: the last good
/// output survives a host restart and is served stale with its age; a slow
/// attempt is hedged, the first answer wins and the slow call is cancelled.
@Suite struct CacheFallbackAndHedgeTests {
    static func lookup(marker: String, maxAge: Int) -> String {
        """
        name: lookup
        steps:
          - id: fetch
            uses: fixture.flaky
            with: { fail_while: "\(marker)", class: permanent }
            recovery:
              - uses: recovery.cache-fallback
                with: { max_age_ms: \(maxAge) }
          - id: report
            uses: noop
            needs: [fetch]
            with: { stale: "${{ steps.fetch.stale }}", age: "${{ steps.fetch.stale_age_ms }}" }
        """
    }

    @Test func aFailedStepServesItsLastGoodOutputMarkedStaleEvenAfterARestart() async throws {
        let clock = TestClock()
        let harness = try Harness(clock: clock)
        let marker = "\(harness.directory)/failing"
        let workflow = Self.lookup(marker: marker, maxAge: 600_000)

        let good = try await harness.run(workflow)
        #expect(good.status == .succeeded)
        let fresh = try #require(good.steps["fetch"]?.output)
        #expect(good.steps["report"]?.output == ["stale": false, "age": .null])

        // The service breaks, the host restarts, two minutes pass.
        _ = FileManager.default.createFile(atPath: marker, contents: Data())
        harness.restart()
        clock.advance(120)
        let served = try await harness.run(workflow)
        #expect(served.status == .succeeded)
        let step = try #require(served.steps["fetch"])
        #expect(step.output == fresh, "the output of the last good run")
        #expect(step.fromCache)
        #expect(step.staleAgeMilliseconds == 120_000)
        #expect(step.decisions.map(\.decision) == ["use_cached"])
        #expect(step.lastError?.errorClass == .permanent, "the failure it covered is kept")
        #expect(served.steps["report"]?.output == ["stale": true, "age": 120_000])
    }

    @Test func anOutputOlderThanTheMaximumAgeIsNotServed() async throws {
        let clock = TestClock()
        let harness = try Harness(clock: clock)
        let marker = "\(harness.directory)/failing"
        let workflow = Self.lookup(marker: marker, maxAge: 60_000)
        #expect(try await harness.run(workflow).status == .succeeded)

        _ = FileManager.default.createFile(atPath: marker, contents: Data())
        clock.advance(61)
        let state = try await harness.run(workflow)
        #expect(state.status == .failed)
        #expect(state.steps["fetch"]?.decisions.map(\.decision) == ["no_cached_output"])
        #expect(state.steps["fetch"]?.staleAgeMilliseconds == nil)
        #expect(state.steps["report"]?.status == .skipped)
    }

    @Test func differentInputsDoNotShareALastGoodOutput() async throws {
        let harness = try Harness()
        let marker = "\(harness.directory)/failing"
        #expect(try await harness.run(Self.lookup(marker: marker, maxAge: 600_000)).status == .succeeded)
        _ = FileManager.default.createFile(atPath: marker, contents: Data())
        // Same step, other resolved inputs: nothing to serve.
        let other = Self.lookup(marker: marker, maxAge: 600_000)
            .replacingOccurrences(of: "class: permanent", with: "class: permanent, region: eu")
        let state = try await harness.run(other)
        #expect(state.status == .failed)
        #expect(state.steps["fetch"]?.decisions.map(\.decision) == ["no_cached_output"])
    }

    @Test func aSlowAttemptIsHedgedAndTheSlowCallIsCancelled() async throws {
        let harness = try Harness()
        let record = "\(harness.directory)/calls.txt"
        let state = try await harness.run("""
            name: hedged
            steps:
              - id: ask
                uses: fixture.flaky
                timeout: 30s
                with: { wait_first_ms: 20000, record: "\(record)" }
                recovery:
                  - uses: recovery.hedge
                    with: { after_ms: 50, max_hedges: 2 }
            """)
        #expect(state.status == .succeeded)
        let step = try #require(state.steps["ask"])
        #expect(step.attempts == 1, "hedges are calls of the same attempt")
        #expect(step.decisions.map(\.decision) == ["hedge", "hedge_won"])
        #expect(step.output?["detail"]?["calls"] == "2", "the second call answered")
        let events = try harness.store.events(run: state.id)
        let won = events.compactMap { stored -> JSONValue? in
            if case .recoveryDecided("ask", 1, "recovery.hedge", "hedge_won", _, let detail) = stored.event { detail } else { nil }
        }
        #expect(won == [["call": 1, "plugin": "fixture.flaky", "cancelled": 1]])
        // The first call was told to stop, and stopped long before its 20 s.
        try await eventually { (try? String(contentsOfFile: record, encoding: .utf8))?.contains("cancelled") == true }
        let lines = try String(contentsOfFile: record, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.last?.hasSuffix(" cancelled") == true)
        #expect(harness.engine.counters.snapshot()[.init(strategy: "recovery.hedge", decision: "hedge_won")] == 1)
    }

    @Test func aHedgedAttemptFailsOnlyWhenEveryCallHasFailed() async throws {
        let harness = try Harness()
        let state = try await harness.run("""
            name: hedged-failing
            steps:
              - id: ask
                uses: fixture.flaky
                with: { fail_times: 9, sleep_first_ms: 300, class: permanent }
                recovery:
                  - uses: recovery.hedge
                    with: { after_ms: 20, max_hedges: 1, uses: channel.null, with: { text: unused } }
            """)
        // The hedge against channel.null answers while the first call still sleeps.
        #expect(state.status == .succeeded)
        #expect(state.steps["ask"]?.plugin == "channel.null", "the step says which plugin answered")

        let failing = try await harness.run("""
            name: hedged-all-fail
            steps:
              - id: ask
                uses: fixture.flaky
                with: { fail_times: 9, sleep_first_ms: 200, class: permanent }
                recovery:
                  - uses: recovery.hedge
                    with: { after_ms: 20, max_hedges: 1 }
            """)
        #expect(failing.status == .failed)
        let step = try #require(failing.steps["ask"])
        // The hedge failed first (the first call was still sleeping); the step
        // failed when the first call failed too.
        #expect(step.decisions.map(\.decision) == ["hedge", "hedge_call_failed"])
        #expect(step.attempts == 1)
        #expect(step.lastError?.message == "deliberate permanent failure 1")
    }
}
