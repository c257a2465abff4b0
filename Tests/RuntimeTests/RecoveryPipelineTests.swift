import Foundation
import Synchronization
import Testing
import TrellisCore
import TrellisStore
@testable import TrellisRuntime

/// The runner's recovery pipeline with real recovery plugins: admission
/// before attempts, per-attempt timeouts, fallback and degradation.
@Suite struct RecoveryPipelineTests {
    @Test func anAttemptTimeoutAbandonsTheAttemptAndARetryFollows() async throws {
        let harness = try Harness()
        let state = try await harness.run("""
            name: attempt-timeout
            steps:
              - id: slow-once
                uses: fixture.flaky
                with: { sleep_first_ms: 2000 }
                recovery:
                  - uses: recovery.timeout
                    with: { timeout_ms: 100 }
                  - uses: recovery.fixed-delay
                    with: { delay_ms: 1, max_attempts: 3 }
            """)
        #expect(state.status == .succeeded)
        let step = try #require(state.steps["slow-once"])
        #expect(step.attempts == 2)
        #expect(step.decisions.map(\.decision) == ["retry"])
        #expect(step.lastError?.timedOut == true, "attempt 1 was the timed-out one")
        let events = try harness.store.events(run: state.id)
        #expect(events.contains {
            if case .stepAttemptFailed(_, 1, _, let message, _, true) = $0.event { message.contains("100 ms") } else { false }
        })
    }

    @Test func fallbackSendsTheNextAttemptElsewhereAndSaysWhoAnswered() async throws {
        let harness = try Harness()
        let state = try await harness.run("""
            name: fallback
            steps:
              - id: send
                uses: fixture.flaky
                with: { fail_times: 9, class: permanent }
                recovery:
                  - uses: recovery.fallback
                    with: { uses: channel.null, with: { text: backup } }
              - id: after
                uses: noop
                needs: [send]
                with: { answered_by: "${{ steps.send.plugin }}" }
            """)
        #expect(state.status == .succeeded)
        let step = try #require(state.steps["send"])
        #expect(step.decisions.map(\.decision) == ["fallback"])
        #expect(step.plugin == "channel.null")
        #expect(step.output?["status"] == "delivered")
        #expect(state.steps["after"]?.output == ["answered_by": "channel.null"])
    }

    @Test func aFailingFallbackEndsTheStep() async throws {
        let harness = try Harness()
        let state = try await harness.run("""
            name: fallback-fails
            steps:
              - id: send
                uses: fixture.flaky
                with: { fail_times: 9, class: permanent }
                recovery:
                  - uses: recovery.fallback
                    with: { uses: fixture.flaky, with: { fail_times: 9, class: permanent } }
            """)
        // The fallback target is the same plugin: the strategy passes, and the step fails.
        #expect(state.status == .failed)
        #expect(state.steps["send"]?.decisions.isEmpty == true)
    }

    @Test func degradeCompletesTheStepWithAQualityDownstreamCanRead() async throws {
        let harness = try Harness()
        let state = try await harness.run("""
            name: degrade
            steps:
              - id: summary
                uses: fixture.flaky
                with: { fail_times: 9 }
                recovery:
                  - uses: recovery.degrade
                    with: { output: { text: "summary unavailable" }, quality: 0.25 }
              - id: use
                uses: noop
                needs: [summary]
                if: steps.summary.quality < 0.5
                with: { note: "low quality: ${{ steps.summary.output.text }}", quality: "${{ steps.summary.quality }}" }
            """)
        #expect(state.status == .succeeded)
        #expect(state.steps["summary"]?.quality == 0.25)
        #expect(state.steps["summary"]?.output == ["text": "summary unavailable"])
        #expect(state.steps["use"]?.output == ["note": "low quality: summary unavailable", "quality": 0.25])
    }

    @Test func admissionCanRejectAnAttemptOrHoldItBackWithoutAThread() async throws {
        let harness = try Harness { $0.maxConcurrentSteps = 1 }
        let state = try await harness.run("""
            name: gate
            steps:
              - id: gated
                uses: fixture.flaky
                recovery:
                  - uses: fixture.gate
                    with: { reject: [1], delay: [2], delay_ms: 150 }
                  - uses: recovery.fixed-delay
                    with: { delay_ms: 1, max_attempts: 3 }
              - id: independent
                uses: noop
            """)
        #expect(state.status == .succeeded)
        let events = try harness.store.events(run: state.id)
        // Attempt 1 was rejected before it started: no call was made for it.
        let starts = events.compactMap { stored -> Int? in
            if case .stepStarted("gated", let attempt, _, _) = stored.event { attempt } else { nil }
        }
        #expect(starts == [2])
        #expect(events.contains {
            if case .stepAttemptFailed("gated", 1, .retryable, let message, _, false) = $0.event {
                message == "the gate is closed for attempt 1"
            } else { false }
        })
        // Attempt 2 was held back ~150 ms, and with one worker the other step still ran meanwhile.
        let retryDecided = try #require(events.first { if case .recoveryDecided("gated", 1, _, "retry", _, _) = $0.event { true } else { false } })
        let started = try #require(events.first { if case .stepStarted("gated", 2, _, _) = $0.event { true } else { false } })
        #expect(started.time - retryDecided.time >= 0.14)
        #expect(state.steps["independent"]?.status == .succeeded)
        let independentDone = try #require(state.steps["independent"]?.finishedAt)
        #expect(independentDone < started.time, "the held attempt occupied no worker")
    }
}

extension RecoveryPipelineTests {
    @Test func exponentialRetryInARealRun() async throws {
        let harness = try Harness()
        let state = try await harness.run("""
            name: retry
            steps:
              - id: flaky
                uses: fixture.flaky
                with: { fail_times: 2 }
                recovery:
                  - uses: recovery.retry
                    with: { delay_ms: 10, max_attempts: 4 }
            """)
        #expect(state.status == .succeeded)
        let step = try #require(state.steps["flaky"])
        #expect(step.attempts == 3)
        #expect(step.decisions.map(\.delayMilliseconds) == [10, 20])
        // The delays were waited out (on timers, not on a worker).
        let events = try harness.store.events(run: state.id)
        let starts = events.filter { if case .stepStarted("flaky", _, _, _) = $0.event { true } else { false } }.map(\.time)
        #expect(starts.count == 3)
        #expect(starts[1] - starts[0] >= 0.009)
        #expect(starts[2] - starts[1] >= 0.019)
    }
}

extension RecoveryPipelineTests {
    @Test func theInnermostStrategyDecidesFirstAndAnExhaustedRetryFallsThrough() async throws {
        let harness = try Harness()
        let state = try await harness.run("""
            name: outermost-first
            steps:
              - id: send
                uses: fixture.flaky
                with: { fail_times: 9 }
                recovery:
                  - uses: recovery.fallback
                    with: { uses: channel.null }
                  - uses: recovery.retry
                    with: { delay_ms: 1, max_attempts: 3 }
            """)
        #expect(state.status == .succeeded)
        let step = try #require(state.steps["send"])
        // Three attempts under the retry (inner), then the fallback (outer) answered.
        #expect(step.decisions.map(\.decision) == ["retry", "retry", "fallback"])
        #expect(step.decisions.map(\.strategy) == ["recovery.retry", "recovery.retry", "recovery.fallback"])
        #expect(step.plugin == "channel.null")
        #expect(step.attempts == 4)
    }
}

extension RecoveryPipelineTests {
    @Test func anOpenCircuitFailsFastWithoutReachingThePlugin() async throws {
        let harness = try Harness()
        let record = "\(harness.directory)/calls.txt"
        let workflow = { (name: String, attempts: Int) in """
            name: \(name)
            steps:
              - id: call
                uses: fixture.flaky
                with: { fail_times: 99, record: "\(record)" }
                recovery:
                  - uses: recovery.retry
                    with: { delay_ms: 1, max_attempts: \(attempts) }
                  - uses: recovery.circuit-breaker
                    with: { minimum_throughput: 2, failure_ratio: 1.0, break_ms: 600000 }
            """ }
        let first = try await harness.run(workflow("trips-it", 2))
        #expect(first.status == .failed)
        let callsAfterFirst = try String(contentsOfFile: record, encoding: .utf8).split(separator: "\n").count
        #expect(callsAfterFirst == 2)
        // Another run against the same plugin: the circuit is open.
        let second = try await harness.run(workflow("meets-it-open", 1))
        #expect(second.status == .failed)
        #expect(second.steps["call"]?.lastError?.message.hasPrefix("circuit open until") == true)
        #expect(try String(contentsOfFile: record, encoding: .utf8).split(separator: "\n").count == callsAfterFirst,
                "no call reached the plugin")
    }
}

extension RecoveryPipelineTests {
    @Test func aTokenBucketSpacesAttemptsAcrossSteps() async throws {
        let harness = try Harness { $0.maxConcurrentSteps = 8 }
        var steps = ""
        for index in 0..<4 {
            steps += """
                  - id: s\(index)
                    uses: channel.null
                    recovery:
                      - uses: recovery.rate-limit
                        with: { rate: 20, burst: 1, max_wait_ms: 2000 }

                """
        }
        let state = try await harness.run("name: limited\nsteps:\n" + steps)
        #expect(state.status == .succeeded)
        let starts = try harness.store.events(run: state.id).compactMap { stored -> Double? in
            if case .stepStarted = stored.event { stored.time } else { nil }
        }.sorted()
        #expect(starts.count == 4)
        for (earlier, later) in zip(starts, starts.dropFirst()) {
            #expect(later - earlier >= 0.045, "20 per second: one every 50 ms")
        }
    }
}

extension RecoveryPipelineTests {
    @Test func theDeploymentsDefaultPipelineGuardsStepsThatDeclareNone() async throws {
        let harness = try Harness {
            $0.recoveryDefaults = ["channel": [RecoveryEntry(uses: "recovery.retry", with: ["delay_ms": 1, "max_attempts": 3])]]
        }
        let state = try await harness.run("""
            name: defaults
            steps:
              - id: defaulted
                uses: fixture.flaky
                with: { fail_times: 2 }
              - id: opted-out
                uses: fixture.flaky
                with: { fail_times: 1 }
                recovery: []
                continue_on_error: true
              - id: built-in
                uses: noop
            """)
        #expect(state.steps["defaulted"]?.status == .succeeded)
        #expect(state.steps["defaulted"]?.decisions.map(\.strategy) == ["recovery.retry", "recovery.retry"])
        #expect(state.steps["opted-out"]?.status == .failed, "an empty recovery: opts out of the defaults")
        #expect(state.steps["opted-out"]?.attempts == 1)
        #expect(state.steps["built-in"]?.status == .succeeded)
    }
}

extension RecoveryPipelineTests {
    /// A strategy that takes 3 s to decide holds up only the step it
    /// decides on: the pipeline decides on a worker thread, and another
    /// run's steps keep flowing through the engine meanwhile.
    @Test func aSlowStrategyDoesNotStallOtherRuns() async throws {
        let harness = try Harness()
        let (slowWorkflow, slowSource) = try harness.workflow("""
            name: slow-decision
            steps:
              - id: flaky
                uses: fixture.flaky
                with: { fail_times: 1 }
                recovery:
                  - uses: recovery.retry
                    with: { delay_ms: 1, max_attempts: 2 }
                  - uses: fixture.gate
                    with: { decide_sleep_ms: 3000 }
            """)
        let (flowingWorkflow, flowingSource) = try harness.workflow(Harness.chain(named: "flowing", steps: 10))

        // When the slow run's first attempt has failed (and its pipeline
        // starts deciding), the other run starts, from the engine's observer
        // (so the test's own scheduling cannot delay it).
        let engine = harness.engine
        let flowingID = harness.start(flowingWorkflow, source: flowingSource) { event in
            if case .stepAttemptFailed = event { true } else { false }
        }
        let slow = try engine.start(workflow: slowWorkflow, source: slowSource)
        try await eventually { flowingID.id != nil }
        let flowing = try #require(flowingID.id)
        let flowed = await engine.wait(for: flowing)
        #expect(flowed.status == .succeeded)
        let decided = await harness.engine.wait(for: slow)
        // The gate (innermost) passed after its sleep; the retry outside it retried; attempt 2 succeeded.
        #expect(decided.status == .succeeded)
        #expect(decided.steps["flaky"]?.decisions.map(\.decision) == ["retry"])

        // The other run finished while the strategy was still deciding: had
        // the engine waited for it, no step could have finished meanwhile.
        let failedAt = try #require(try harness.store.events(run: slow).first { $0.event.type == "step_attempt_failed" }?.time)
        let decidedAt = try #require(try harness.store.events(run: slow).first { $0.event.type == "recovery_decided" }?.time)
        let flowedAt = try #require(try harness.store.events(run: flowing).last { $0.event.type == "run_finished" }?.time)
        #expect(decidedAt - failedAt >= 2.9, "the strategy took its 3 s")
        let timeline = try harness.store.events(run: flowing).map { "\($0.event.type)@\(String(format: "%.3f", $0.time - failedAt))" }
        #expect(flowedAt < decidedAt, "10 steps of another run finished \(decidedAt - flowedAt) s before the slow decision: \(timeline)")
    }

    /// A strategy that fails to decide is recorded on the run, and the
    /// step fails saying why (it is not hidden behind a silent "pass").
    @Test func aStrategyThatIsNotLoadedIsRecordedNotSwallowed() async throws {
        let harness = try Harness()
        let state = try await harness.run("""
            name: broken-strategy
            steps:
              - id: flaky
                uses: fixture.flaky
                with: { fail_times: 1 }
                recovery:
                  - uses: recovery.not-there
            """)
        #expect(state.status == .failed)
        let step = try #require(state.steps["flaky"])
        #expect(step.decisions.map(\.decision) == ["strategy_failed"])
        #expect(step.decisions.first?.strategy == "recovery.not-there")
        #expect(step.lastError?.message.contains("recovery plugin recovery.not-there is not loaded") == true, "\(step.lastError?.message ?? "")")
    }
}

extension RecoveryPipelineTests {
    /// A strategy slow to admit stalls the engine once: its first admission
    /// runs inline and overruns the bound, and from then on its admissions
    /// are asked on worker threads while other runs flow.
    @Test func aStrategySlowToAdmitStallsTheEngineAtMostOnce() async throws {
        let harness = try Harness()
        let (slowWorkflow, slowSource) = try harness.workflow("""
            name: slow-admission
            steps:
              - id: flaky
                uses: fixture.flaky
                with: { fail_times: 2 }
                recovery:
                  - uses: recovery.retry
                    with: { delay_ms: 0, max_attempts: 3 }
                  - uses: fixture.gate
                    with: { admit_sleep_ms: 400 }
            """)
        let (flowingWorkflow, flowingSource) = try harness.workflow(Harness.chain(named: "flowing", steps: 50))
        // Once the first (inline, slow) admission is over, the other run starts.
        let engine = harness.engine
        let flowingID = harness.start(flowingWorkflow, source: flowingSource) { event in
            if case .stepStarted("flaky", 1, _, _) = event { true } else { false }
        }
        let slow = try engine.start(workflow: slowWorkflow, source: slowSource)
        let decided = await engine.wait(for: slow)
        #expect(decided.status == .succeeded)
        #expect(decided.steps["flaky"]?.attempts == 3)
        let flowing = try #require(flowingID.id)
        let flowed = await engine.wait(for: flowing)
        #expect(flowed.status == .succeeded)
        // Attempt 2 started after its 400 ms admission on a worker; the other
        // run's 50 steps had all finished by then.
        let secondStart = try #require(try harness.store.events(run: slow).first {
            if case .stepStarted(_, 2, _, _) = $0.event { true } else { false }
        }?.time)
        let flowedAt = try #require(try harness.store.events(run: flowing).last { $0.event.type == "run_finished" }?.time)
        #expect(flowedAt < secondStart, "the other run finished \(secondStart - flowedAt) s before the slow admission ended")
    }
}
