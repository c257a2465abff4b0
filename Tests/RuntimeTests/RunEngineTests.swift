import Foundation
import Synchronization
import Testing
import TrellisCore
import TrellisStore
@testable import TrellisRuntime

@Suite struct RunEngineTests {
    @Test func outputsFlowDownstreamAndTheRunSucceeds() async throws {
        let harness = try Harness()
        let state = try await harness.run("""
            name: flow
            inputs: { who: { default: Ada } }
            steps:
              - id: first
                uses: noop
                with: { greeting: "Hello ${{ inputs.who }}" }
              - id: second
                uses: fixture.flaky
                needs: [first]
                with: { text: "${{ steps.first.output.greeting }}" }
              - id: third
                uses: noop
                needs: [second]
                with: { got: "${{ steps.second.output.status }}", run: "${{ run.id }}" }
            """)
        #expect(state.status == .succeeded)
        #expect(state.steps["first"]?.output == ["greeting": "Hello Ada"])
        #expect(state.steps["third"]?.output == ["got": "delivered", "run": .string(state.id)])
        #expect(try harness.store.runRecord(state.id)?.status == .succeeded)
        #expect(try harness.store.replay(run: state.id)?.differences == [])
    }

    @Test func failuresSkipDependentsAndConditionsSkipSteps() async throws {
        let harness = try Harness()
        let state = try await harness.run("""
            name: skips
            steps:
              - id: broken
                uses: fixture.flaky
                with: { fail_times: 5, class: permanent }
              - id: after-broken
                uses: noop
                needs: [broken]
              - id: tolerated
                uses: fixture.flaky
                continue_on_error: true
                with: { fail_times: 5 }
              - id: after-tolerated
                uses: noop
                needs: [tolerated]
                with: { why: "${{ steps.tolerated.error }}" }
              - id: never
                uses: noop
                if: "false"
            """)
        #expect(state.status == .failed)
        #expect(state.message?.contains("step 'broken' failed (permanent): deliberate permanent failure 1") == true)
        #expect(state.steps["after-broken"]?.status == .skipped)
        #expect(state.steps["after-broken"]?.skipReason == "it needs 'broken', which failed")
        #expect(state.steps["tolerated"]?.status == .failed)
        #expect(state.steps["after-tolerated"]?.status == .succeeded)
        #expect(state.steps["after-tolerated"]?.output?["why"]?.stringValue?.hasPrefix("deliberate") == true,
                "a later step reads the failed step's error: \(state.steps["after-tolerated"]?.output ?? .null)")
        #expect(state.steps["never"]?.status == .skipped)
    }

    @Test func higherPriorityStartsFirstThenFirstComeFirstServed() async throws {
        let harness = try Harness { $0.maxConcurrentSteps = 1 }
        let state = try await harness.run("""
            name: priorities
            steps:
              - { id: gate, uses: noop }
              - { id: low-1, uses: noop, needs: [gate], priority: low }
              - { id: normal-1, uses: noop, needs: [gate] }
              - { id: critical, uses: noop, needs: [gate], priority: critical }
              - { id: normal-2, uses: noop, needs: [gate] }
              - { id: background, uses: noop, needs: [gate], priority: background }
              - { id: high, uses: noop, needs: [gate], priority: high }
            """)
        #expect(state.status == .succeeded)
        #expect(try harness.startOrder(state.id) == ["gate", "critical", "high", "normal-1", "normal-2", "low-1", "background"])
    }

    /// The most attempts in flight at once, from the recorded events.
    func peakConcurrency(_ harness: Harness, _ runID: String, only: Set<String>? = nil) throws -> Int {
        var current = 0, peak = 0
        for stored in try harness.store.events(run: runID) {
            switch stored.event {
            case .stepStarted(let step, _, _, _) where only?.contains(step) ?? true:
                current += 1
                peak = max(peak, current)
            case .stepSucceeded(let step, _, _, _, _, _) where only?.contains(step) ?? true,
                 .stepAttemptFailed(let step, _, _, _, _, _) where only?.contains(step) ?? true:
                current -= 1
            default: break
            }
        }
        return peak
    }

    @Test func globalAndPerPluginLimitsHold() async throws {
        let harness = try Harness {
            $0.maxConcurrentSteps = 3
            $0.pluginPoolSizes = ["fixture.flaky": 1]
        }
        var steps = ""
        for index in 0..<6 { steps += "  - { id: s\(index), uses: sleep, with: { duration: 30ms } }\n" }
        for index in 0..<4 { steps += "  - { id: f\(index), uses: fixture.flaky, with: { sleep_ms: 20 } }\n" }
        let state = try await harness.run("name: limits\nsteps:\n" + steps)
        #expect(state.status == .succeeded)
        #expect(try peakConcurrency(harness, state.id) == 3)
        #expect(try peakConcurrency(harness, state.id, only: ["f0", "f1", "f2", "f3"]) == 1)
    }

    @Test func concurrencyKeysSerializeAcrossRuns() async throws {
        let harness = try Harness { $0.maxConcurrentSteps = 8 }
        let yaml = """
            name: keyed
            steps:
              - { id: a, uses: sleep, with: { duration: 40ms }, concurrency: "deploy-${{ inputs.env }}" }
            inputs: { env: {} }
            """
        let (workflow, source) = try harness.workflow(yaml)
        let start = Date()
        let ids = try (0..<3).map { _ in try harness.engine.start(workflow: workflow, source: source, inputs: ["env": "prod"]) }
        for id in ids { _ = await harness.engine.wait(for: id) }
        #expect(Date().timeIntervalSince(start) >= 0.12, "three 40 ms steps under one key ran one after another")
    }

    @Test func aHangingPluginTimesOutAndIsAbandoned() async throws {
        let harness = try Harness()
        let capacityBefore = harness.engine.pool.capacity
        // Read when the timeout is recorded: the plugin returns 3 s later and
        // gives the extra capacity back.
        let capacityAfterTimeout = Mutex<Int?>(nil)
        let pool = harness.engine.pool
        harness.engine.observe { _, event, _ in
            if case .stepAttemptFailed(_, _, _, _, _, true) = event {
                let capacity = pool.capacity
                capacityAfterTimeout.withLock { $0 = capacity }
            }
        }
        let state = try await harness.run("""
            name: hang
            steps:
              - id: stuck
                uses: fixture.flaky
                timeout: 200ms
                with: { sleep_ms: 3000 }
            """)
        #expect(state.status == .failed)
        let step = try #require(state.steps["stuck"])
        let waited = try #require(step.finishedAt) - (try #require(step.startedAt))
        #expect(waited < 2, "the run gave up after its timeout instead of waiting 3 s for the plugin")
        #expect(step.lastError?.timedOut == true)
        #expect(step.lastError?.message.contains("timed out after 200 ms") == true)
        #expect(capacityAfterTimeout.withLock { $0 } == capacityBefore + 1,
                "the stuck call's thread is replaced: the pool keeps its capacity")
    }

    @Test func retriesWithTheSameIdempotencyKey() async throws {
        let harness = try Harness()
        let record = "\(harness.directory)/calls.txt"
        let state = try await harness.run("""
            name: retry
            steps:
              - id: flaky
                uses: fixture.flaky
                with: { fail_times: 2, record: "\(record)" }
                recovery:
                  - uses: recovery.fixed-delay
                    with: { delay_ms: 20, max_attempts: 5 }
            """)
        #expect(state.status == .succeeded)
        let step = try #require(state.steps["flaky"])
        #expect(step.attempts == 3)
        #expect(step.decisions.map(\.decision) == ["retry", "retry"])
        #expect(step.decisions.map(\.delayMilliseconds) == [20, 20])
        let calls = try String(contentsOfFile: record, encoding: .utf8).split(separator: "\n")
        #expect(calls == ["\(state.id)/flaky 1", "\(state.id)/flaky 2", "\(state.id)/flaky 3"])
    }

    @Test func recoveryThatGivesUpFailsTheStep() async throws {
        let harness = try Harness()
        let state = try await harness.run("""
            name: give-up
            steps:
              - id: flaky
                uses: fixture.flaky
                with: { fail_times: 10, class: rate_limited, retry_after_ms: 30 }
                recovery:
                  - uses: recovery.fixed-delay
                    with: { delay_ms: 1, max_attempts: 2 }
            """)
        #expect(state.status == .failed)
        #expect(state.steps["flaky"]?.attempts == 2)
        #expect(state.steps["flaky"]?.decisions.map(\.decision) == ["retry"], "then it passed, and nothing else decided")
        #expect(state.steps["flaky"]?.decisions.first?.delayMilliseconds == 30, "the retry-after wins over the delay")
    }

    @Test func cancellingARunStopsItsSteps() async throws {
        let harness = try Harness()
        let (workflow, source) = try harness.workflow("""
            name: long
            steps:
              - { id: wait, uses: sleep, with: { duration: 10s } }
              - { id: after, uses: noop, needs: [wait] }
            """)
        // Cancel as soon as the long step is durably started (from the engine's observer).
        let engine = harness.engine
        engine.observe { runID, event, _ in
            if case .stepStarted("wait", _, _, _) = event { engine.cancel(runID: runID, reason: "not needed") }
        }
        let id = try engine.start(workflow: workflow, source: source)
        let state = await engine.wait(for: id)
        #expect(state.status == .cancelled)
        #expect(state.message == "not needed")
        #expect(state.steps["after"]?.status == .cancelled)
    }

    /// A `sleep` step is a timer of the engine's: however many sleep at
    /// once, no worker thread is started for them.
    @Test func sleepingStepsHoldNoWorkerThread() async throws {
        let harness = try Harness { $0.maxConcurrentSteps = 8 }
        var steps = ""
        for index in 0..<8 { steps += "  - { id: s\(index), uses: sleep, with: { duration: 80ms } }\n" }
        let started = Date()
        let state = try await harness.run("name: sleepers\nsteps:\n" + steps)
        #expect(state.status == .succeeded)
        #expect(Date().timeIntervalSince(started) >= 0.08)
        #expect(state.steps["s0"]?.output?["slept_ms"] == 80)
        #expect(harness.engine.pool.threadCount == 0, "no thread was started for a sleep")
        let bad = try await harness.run("name: bad-sleep\nsteps:\n  - { id: s, uses: sleep, with: { duration: -1 } }\n")
        #expect(bad.steps["s"]?.lastError?.message == "a sleep step needs `with: { duration: 5s }`")
    }

    @Test func cachedOutputsAreReusedForIdenticalInputs() async throws {
        let harness = try Harness()
        let yaml = """
            name: cached
            inputs: { n: {} }
            steps:
              - id: expensive
                uses: fixture.flaky
                with: { n: "${{ inputs.n }}" }
                cache: { ttl: 1h }
            """
        let first = try await harness.run(yaml, inputs: ["n": 1])
        let second = try await harness.run(yaml, inputs: ["n": 1])
        let other = try await harness.run(yaml, inputs: ["n": 2])
        #expect(first.steps["expensive"]?.fromCache == false)
        #expect(second.steps["expensive"]?.fromCache == true)
        #expect(second.steps["expensive"]?.output == first.steps["expensive"]?.output)
        #expect(other.steps["expensive"]?.fromCache == false)
    }

    /// A long-lived host keeps no copy of the runs it finished (a 1,000-step
    /// run's state is about a megabyte): a waiter that comes after the end
    /// reads the run from the store.
    @Test func finishedRunsAreNotKeptInMemory() async throws {
        let harness = try Harness()
        let (workflow, source) = try harness.workflow("""
            name: short
            steps:
              - { id: only, uses: noop, with: { n: 1 } }
            """)
        let engine = harness.engine
        let id = try engine.start(workflow: workflow, source: source)
        #expect(await engine.wait(for: id).status == .succeeded)
        #expect(engine.keptRunStates == 0)
        let late = await engine.wait(for: id)
        #expect(late.status == .succeeded)
        #expect(late.steps["only"]?.output == ["n": 1])
    }

    /// A step's timeout timer goes when its attempt ends, not when the
    /// timeout would have fallen due: a long timeout leaves nothing behind.
    @Test func timersOfEndedAttemptsAreDropped() async throws {
        let harness = try Harness()
        let steps = (1...20).map { index in
            "  - { id: s\(index), uses: noop, timeout: 1h\(index > 1 ? ", needs: [s\(index - 1)]" : "") }"
        }
        let (workflow, source) = try harness.workflow("name: watched\nsteps:\n" + steps.joined(separator: "\n"))
        let engine = harness.engine
        // Observers run on the engine thread, right after each commit: there
        // the engine's timers can be read.
        let started = Mutex<[Int]>([])
        let atFinish = Mutex<Int?>(nil)
        engine.observe { _, event, _ in
            switch event {
            case .stepStarted: started.withLock { $0.append(engine.timers.count) }
            case .runFinished: atFinish.withLock { $0 = engine.timers.count }
            default: break
            }
        }
        let id = try engine.start(workflow: workflow, source: source)
        #expect(await engine.wait(for: id).status == .succeeded)
        #expect(started.withLock { $0 } == Array(repeating: 1, count: 20), "only the running step's timeout is pending")
        #expect(atFinish.withLock { $0 } == 0)
    }

    @Test func drainInterruptsAndARestartResumesWithoutRedoingCompletedSteps() async throws {
        let harness = try Harness()
        let record = "\(harness.directory)/calls.txt"
        let (workflow, source) = try harness.workflow("""
            name: resumable
            steps:
              - { id: done-first, uses: fixture.flaky, with: { record: "\(record)" } }
              - { id: slow, uses: fixture.flaky, needs: [done-first], with: { sleep_first_ms: 2000, record: "\(record)" } }
              - { id: last, uses: fixture.flaky, needs: [slow], with: { record: "\(record)" } }
            """)
        // Drain as soon as "slow" is durably started (and so in flight).
        let drained = DispatchSemaphore(value: 0)
        let engine = harness.engine
        engine.observe { _, event, _ in
            if case .stepStarted("slow", _, _, _) = event {
                engine.beginDrain(graceSeconds: 0.05) { drained.signal() }
            }
        }
        let id = try engine.start(workflow: workflow, source: source)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread { drained.wait(); done.resume() }.start()
        }
        let interrupted = try #require(try harness.store.loadState(run: id))
        #expect(interrupted.status == .interrupted)
        #expect(interrupted.steps["done-first"]?.status == .succeeded)
        #expect(interrupted.steps["slow"]?.status == .interrupted)

        harness.restart()
        #expect(try harness.engine.resumeUnfinished() == [id])
        let state = await harness.engine.wait(for: id)
        #expect(state.status == .succeeded)
        let calls = try String(contentsOfFile: record, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(calls.filter { $0.hasPrefix("\(id)/done-first ") } == ["\(id)/done-first 1"], "a completed step never runs again")
        #expect(calls.filter { $0.hasPrefix("\(id)/slow ") } == ["\(id)/slow 1", "\(id)/slow 2"], "same key, next attempt")
        #expect(try harness.store.replay(run: id)?.differences == [])
    }
}

extension RunEngineTests {
    @Test func aRunWhosePluginThisDeploymentLacksIsLeftForOneThatHasIt() async throws {
        let harness = try Harness()
        let (workflow, source) = try harness.workflow("""
            name: needs-flaky
            steps:
              - { id: slow, uses: fixture.flaky, with: { sleep_first_ms: 2000 } }
            """)
        let drained = DispatchSemaphore(value: 0)
        let engine = harness.engine
        engine.observe { _, event, _ in
            if case .stepStarted("slow", _, _, _) = event { engine.beginDrain(graceSeconds: 0.05) { drained.signal() } }
        }
        let id = try engine.start(workflow: workflow, source: source)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread { drained.wait(); done.resume() }.start()
        }
        let before = try #require(try harness.store.loadState(run: id))
        #expect(before.status == .interrupted)

        // A host whose deployment does not offer fixture.flaky.
        harness.restart(catalog: EmptyPluginCatalog())
        #expect(try harness.engine.resumeUnfinished() == [], "not resumed here")
        let refused = try #require(throws: RunCannotResumeHere.self) { try harness.engine.resume(runID: id) }
        #expect(refused.description.contains("unknown plugin 'fixture.flaky'"), "\(refused)")
        let after = try #require(try harness.store.loadState(run: id))
        #expect(after.status == .interrupted, "the run was not failed")
        #expect(after.version == before.version, "nothing was appended")

        // The deployment offers it again: the same run resumes and finishes.
        harness.restart()
        #expect(try harness.engine.resumeUnfinished() == [id], "its lease was given back")
        #expect(await harness.engine.wait(for: id).status == .succeeded)
    }
}

@Suite struct WorkflowLimitTests {
    @Test func maxActiveRunsHoldsFurtherRunsUntilOneEnds() async throws {
        let harness = try Harness { $0.maxConcurrentSteps = 8 }
        let (workflow, source) = try harness.workflow("""
            name: one-at-a-time
            concurrency: { max_active_runs: 1 }
            steps: [{ id: a, uses: sleep, with: { duration: 50ms } }]
            """)
        let ids = try (0..<3).map { _ in try harness.engine.start(workflow: workflow, source: source) }
        var states: [RunState] = []
        for id in ids { states.append(await harness.engine.wait(for: id)) }
        #expect(states.allSatisfy { $0.status == .succeeded })
        // No two runs' steps overlapped: each started after the previous finished.
        let spans = states.compactMap { state -> (Double, Double)? in
            guard let step = state.steps["a"], let start = step.startedAt, let end = step.finishedAt else { return nil }
            return (start, end)
        }.sorted { $0.0 < $1.0 }
        #expect(spans.count == 3)
        for (earlier, later) in zip(spans, spans.dropFirst()) { #expect(later.0 >= earlier.1) }
    }
}
