import Foundation
import TrellisCore
import TrellisPluginHost
import TrellisStore

extension RunEngine {
    func completed(runID: String, step stepID: String, attempt: Int, call: Int, outcome: StepOutcome, at time: Double) {
        if abandoned.remove(abandonedKey(runID, stepID, attempt, call)) != nil {
            pool.release()   // the thread a given-up call held is free again
            return
        }
        guard let run = runs[runID], !run.isFinished, var flight = run.inFlight[stepID], flight.attempt == attempt,
              flight.isRunning(call), let step = run.steps[stepID] else { return }
        let answered = flight.call(call)
        if case .failure = outcome, flight.runningCalls.count > 1 {
            // A hedged attempt fails only when its last call fails.
            hedgeCallFailed(run, step, &flight, call: call, outcome: outcome, at: time)
            return
        }
        if case .success = outcome, let hedging = flight.hedging, !flight.hedges.isEmpty {
            let cancelled = flight.runningCalls.count - 1
            abandonCalls(run, stepID, except: call)
            recordDecision(run, stepID, attempt: attempt, strategy: hedging.strategy, decision: "hedge_won", at: time,
                           detail: ["call": .number(Double(call)), "plugin": .string(answered.plugin),
                                    "cancelled": .number(Double(cancelled))])
        }
        release(run, stepID)
        switch outcome {
        case .success(let output):
            run.record(.stepSucceeded(step: stepID, attempt: attempt, output: output, fromCache: false, quality: nil), at: time)
            // The last good output of the step's own plugin (not a fallback's),
            // for `cache:` and for strategies that serve it after a failure.
            if run.state.steps[stepID]?.fallback == nil, answered.plugin == step.uses, keepsLastGoodOutput(step) {
                do {
                    try store.storeCachedOutput(key: cacheKey(run, step, answered.inputs), output: output, at: time)
                } catch {
                    logger.warning("step cache not written", metadata: ["run.id": "\(runID)", "step.id": "\(stepID)", "error": "\(error)"])
                }
            }
            stepFinished(run, stepID, at: time)
        case .failure(let errorClass, let message, let retryAfter):
            failed(run, stepID, attempt: attempt, errorClass: errorClass, message: message, retryAfter: retryAfter,
                   timedOut: false, at: time)
        }
    }

    /// An attempt failed: record it, then ask the step's recovery pipeline
    /// what to do. The pipeline decides on a worker thread (a slow strategy
    /// holds up this step only), innermost strategy first; its verdict comes
    /// back as an input (`decided`). With no pipeline, the step fails.
    func failed(_ run: ActiveRun, _ stepID: String, attempt: Int, errorClass: ErrorClass, message: String,
                retryAfter: UInt64, timedOut: Bool, at time: Double) {
        guard let step = run.steps[stepID] else { return }
        run.record(.stepAttemptFailed(step: stepID, attempt: attempt, errorClass: errorClass, message: message,
                                      retryAfterMilliseconds: retryAfter, timedOut: timedOut), at: time)
        guard let pipeline = run.pipelines[stepID], !pipeline.isEmpty else {
            fail(run, stepID, errorClass, message, at: time)
            return
        }
        let startedAt = run.state.steps[stepID]?.startedAt ?? time
        run.deciding[stepID] = ActiveRun.Deciding(attempt: attempt, failure: RecoveryFailure(
            errorClass: errorClass, retryAfterMilliseconds: retryAfter, message: message, attempt: UInt32(attempt),
            elapsedMilliseconds: UInt64(max(0, time - startedAt) * 1000), key: step.uses))
        askPipeline(run, stepID, from: nil)
    }

    /// Hands the pending decision to a worker (after the commit that records
    /// the failure), from strategy `index` outwards (nil: the innermost).
    private func askPipeline(_ run: ActiveRun, _ stepID: String, from index: Int?) {
        guard let deciding = run.deciding[stepID], let pipeline = run.pipelines[stepID] else { return }
        let context = PluginCallContext(idempotencyKey: "\(run.id)/\(stepID)", runID: run.id, stepID: stepID,
                                        attempt: UInt32(deciding.attempt))
        let runID = run.id, attempt = deciding.attempt, failure = deciding.failure
        jobsToSubmit.append((run.id, { [weak self] in
            let (verdict, decidedAt) = pipeline.decide(failure, context: context, from: index)
            self?.send(.decided(runID: runID, step: stepID, attempt: attempt, verdict: verdict, index: decidedAt))
        }))
    }

    /// The pipeline's verdict on a failed attempt: retry (a timer), fail,
    /// degrade, serve the last good output, or fall back to another plugin.
    func decided(runID: String, step stepID: String, attempt: Int, verdict: RecoveryPipeline.Verdict, index: Int, at time: Double) {
        guard let run = runs[runID], !run.isFinished, let deciding = run.deciding[stepID], deciding.attempt == attempt,
              let step = run.steps[stepID] else { return }
        let errorClass = deciding.failure.errorClass, message = deciding.failure.message
        run.deciding[stepID] = nil
        let strategy: String
        let decision: RecoveryDecision
        switch verdict {
        case .exhausted:
            fail(run, stepID, errorClass, message, at: time)
            return
        case .broken(let failure):
            recordDecision(run, stepID, attempt: attempt, strategy: failure.strategy, decision: "strategy_failed", at: time,
                           detail: ["message": .string(failure.message)])
            fail(run, stepID, errorClass, "\(message) (\(failure.message))", at: time)
            return
        case .decided(let decided, let by):
            strategy = by
            decision = decided
        }
        func record(_ name: String, delay: UInt64 = 0, detail: JSONValue? = nil) {
            recordDecision(run, stepID, attempt: attempt, strategy: strategy, decision: name, delay: delay, at: time, detail: detail)
        }
        switch decision {
        case .pass:
            fail(run, stepID, errorClass, message, at: time)
        case .retry(let delay):
            record("retry", delay: delay)
            timers.append(Timer(due: time + Double(delay) / 1000, runID: run.id, step: stepID, kind: .retry))
        case .fail:
            record("fail")
            fail(run, stepID, errorClass, message, at: time)
        case .degrade(let output, let quality):
            record("degrade")
            run.record(.stepSucceeded(step: stepID, attempt: attempt, output: output, fromCache: false, quality: quality), at: time)
            stepFinished(run, stepID, at: time)
        case .useCached(let maxAge):
            let inputs = step.with.rendered(run.lookup(secrets: configuration.secrets))
            let limit = maxAge.map { Double($0) / 1000 } ?? .infinity
            guard let hit = cachedOutput(run, step, inputs, maxAge: limit, at: time) else {
                // Nothing young enough to serve: the failure goes on outwards.
                record("no_cached_output", detail: maxAge.map { ["max_age_ms": .number(Double($0))] })
                run.deciding[stepID] = deciding
                if index > 0 { askPipeline(run, stepID, from: index - 1) } else { run.deciding[stepID] = nil; fail(run, stepID, errorClass, message, at: time) }
                return
            }
            let age = UInt64(max(0, time - hit.storedAt) * 1000)
            record("use_cached", detail: ["age_ms": .number(Double(age))])
            run.record(.stepSucceeded(step: stepID, attempt: attempt, output: hit.output, fromCache: true, quality: nil,
                                      staleAgeMilliseconds: age), at: time)
            stepFinished(run, stepID, at: time)
        case .fallback(let target):
            record("fallback", detail: target)
            guard let uses = target["uses"]?.stringValue, plugins?.instance(uses) != nil || Step.builtIns.contains(uses) else {
                fail(run, stepID, errorClass, "\(message) (the fallback target \(target["uses"]?.interpolated ?? "?") is not loaded)",
                     at: time)
                return
            }
            enqueue(run, stepID)
        }
    }

    /// Tells stateful strategies (breakers, rate limits) how an attempt
    /// ended that the engine itself ended (timed out, or a sleep's timer),
    /// on a worker thread; calls report their own outcomes where they run.
    func recordOutcome(_ run: ActiveRun, _ step: Step, attempt: Int, plugin: String, result: ErrorClass?, duration: Double) {
        guard let pipeline = run.pipelines[step.id] else { return }
        let runID = run.id, stepID = step.id
        jobsToSubmit.append((run.id, { [weak self] in
            let failures = pipeline.record(key: plugin, result: result, duration: duration)
            if !failures.isEmpty { self?.send(.strategyFailures(runID: runID, step: stepID, attempt: attempt, failures)) }
        }))
    }

    /// Records a recovery decision as an event and counts it for metrics.
    func recordDecision(_ run: ActiveRun, _ stepID: String, attempt: Int, strategy: String, decision: String,
                        delay: UInt64 = 0, at time: Double, detail: JSONValue? = nil) {
        run.record(.recoveryDecided(step: stepID, attempt: attempt, strategy: strategy, decision: decision,
                                    delayMilliseconds: delay, detail: detail), at: time)
        counters.count(strategy: strategy, decision: decision)
    }

    func fail(_ run: ActiveRun, _ stepID: String, _ errorClass: ErrorClass, _ message: String, at time: Double) {
        run.record(.stepFailed(step: stepID, errorClass: errorClass, message: message), at: time)
        stepFinished(run, stepID, at: time)
    }

    /// Commits every run's pending events in one transaction; on a conflict
    /// (another process appended, e.g. `trellis runs cancel`), each run is
    /// committed on its own, reloading the one that moved. Returns the runs
    /// whose events are durable.
    func commit(at time: Double) -> Set<String> {
        let dirty = runs.values.filter { !$0.pending.isEmpty }
        var committed = Set(runs.keys.filter { runs[$0]?.pending.isEmpty == true })
        func append(for run: ActiveRun) -> RunAppend {
            RunAppend(runID: run.id, expectedVersion: run.committedVersion, events: run.pending, time: time, state: run.state,
                      owner: owner)
        }
        do {
            if !dirty.isEmpty { try store.append(dirty.map(append)) }
            dirty.forEach { committed.insert($0.id) }
        } catch {
            // One run's append failed the batch: find which, commit the rest.
            for run in dirty {
                do {
                    try store.append([append(for: run)])
                    committed.insert(run.id)
                } catch where error.code == .conflict || error.code == .leaseLost {
                    // Another writer moved the run: it is not this process's
                    // any more, and nothing is appended on top of the other's.
                    stopExecuting(run, reason: error.message)
                } catch {
                    logger.error("cannot record run events; the run stops here and resumes on restart",
                                 metadata: ["run.id": "\(run.id)", "error": "\(error)"])
                    try? store.releaseLease(run: run.id, owner: owner)
                    stopExecuting(run, reason: "its events cannot be recorded: \(error.message)")
                }
            }
        }
        for run in dirty where committed.contains(run.id) { published(run) }
        metrics.activeRuns.record(runs.count)
        if let done = drainDone, runs.isEmpty || runs.values.allSatisfy({ $0.state.status == .interrupted }) {
            for run in Array(runs.values) { published(run) }
            drainDone = nil
            done()
        }
        return committed
    }

    /// Stops executing a run without appending anything more to it: its
    /// calls are cancelled (what they return is dropped), its pending events
    /// discarded, and its waiters told.
    func stopExecuting(_ run: ActiveRun, reason: String) {
        logger.warning("stopped executing the run: \(reason)", metadata: ["run.id": "\(run.id)"])
        for (stepID, flight) in run.inFlight {
            flight.cancelAll()
            abandonCalls(run, stepID)
            release(run, stepID)
        }
        run.pending = []
        run.queued.removeAll()
        forgetTimers(of: run.id)
        runs.removeValue(forKey: run.id)
        for (workflow, queue) in heldRuns where queue.contains(where: { $0.id == run.id }) {
            heldRuns[workflow] = queue.filter { $0.id != run.id }
        }
        stoppedExecuting(run.id, reason: reason)
    }

    /// A retired run's timers (a retry it no longer needs, say) go with it.
    private func forgetTimers(of runID: String) {
        if timers.contains(where: { $0.runID == runID }) { timers.removeAll { $0.runID == runID } }
    }

    /// After a commit: tell observers, and retire finished or interrupted runs.
    private func published(_ run: ActiveRun) {
        let events = run.pending
        run.pending = []
        metrics.committed(events)
        run.committedVersion = run.state.version
        let retiring = run.isFinished || run.state.status == .interrupted
        if retiring { forgetTimers(of: run.id) }
        notify(run.id, events, run.state)
        if retiring {
            runs.removeValue(forKey: run.id)
            finished(run.id, run.state)
            if run.isFinished { releasedWorkflows.append(run.workflow.name) }
        }
    }
}
