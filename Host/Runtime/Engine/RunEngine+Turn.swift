import Foundation
import TrellisCore
import TrellisPluginHost
import TrellisStore

extension RunEngine {
    /// One turn of the engine loop: apply what happened, start what can
    /// start, commit everything in one transaction, then submit the calls.
    func turn(_ inputs: [Input]) {
        loop.preconditionOnLoop()
        polledSinceTurn = false
        let time = now()
        for input in inputs { handle(input, at: time) }
        fireTimers(at: time)
        dispatch(at: time)
        checkDrain(at: time)
        var committed = commit(at: time)
        // Finished runs free slots for runs held by `max_active_runs`.
        while !releasedWorkflows.isEmpty {
            let released = releasedWorkflows
            releasedWorkflows.removeAll()
            for workflow in released { admitHeld(workflow, at: time) }
            dispatch(at: time)
            committed.formUnion(commit(at: time))
        }
        let jobs = jobsToSubmit
        jobsToSubmit.removeAll(keepingCapacity: true)
        pool.submit(contentsOf: jobs.filter { committed.contains($0.runID) }.map(\.job))
    }

    private func handle(_ input: Input, at time: Double) {
        switch input {
        case .add(let run, let committed):
            if !committed.isEmpty { notify(run.id, committed, run.state) }
            add(run, at: time)
        case .completed(let runID, let step, let attempt, let call, let outcome):
            completed(runID: runID, step: step, attempt: attempt, call: call, outcome: outcome, at: time)
        case .cancel(let runID, let reason):
            cancel(runID: runID, reason: reason, at: time)
        case .drain(let grace, let done):
            draining = DrainState(deadline: time + grace, done: done)
            timers.append(Timer(due: time + grace, runID: "", step: "", kind: .drainDeadline))
        case .renewed(let renewal, let startedAt):
            renewed(renewal, startedAt: startedAt, at: time)
        case .decided(let runID, let step, let attempt, let verdict, let index):
            decided(runID: runID, step: step, attempt: attempt, verdict: verdict, index: index, at: time)
        case .admitted(let runID, let step, let attempt, let admission, let failures):
            admitted(runID: runID, step: step, attempt: attempt, admission, failures, at: time)
        case .strategyFailures(let runID, let step, let attempt, let failures):
            guard let run = runs[runID], !run.isFinished else { return }
            for failure in failures {
                recordDecision(run, step, attempt: attempt, strategy: failure.strategy, decision: "strategy_failed", at: time,
                               detail: ["message": .string(failure.message)])
            }
        }
    }

    /// What a lease renewal found: runs taken over stop here; runs someone
    /// asked to cancel are cancelled.
    private func renewed(_ renewal: LeaseRenewal, startedAt: Double, at time: Double) {
        let held = runs.values.filter { !$0.isFinished } + heldRuns.values.joined()
        for run in held where run.leasedAt < startedAt && !renewal.held.contains(run.id) {
            let holder = ((try? store.leaseHolder(run: run.id)) ?? nil).map { "\($0)" } ?? "nobody"
            stopExecuting(run, reason: "its lease was taken over (now held by \(holder))")
        }
        for (runID, reason) in renewal.cancelRequests { cancel(runID: runID, reason: reason, at: time) }
    }

    private func add(_ run: ActiveRun, at time: Double) {
        guard runs[run.id] == nil, !(heldRuns[run.workflow.name]?.contains { $0.id == run.id } ?? false) else { return }
        if let limit = run.workflow.maxActiveRuns,
           runs.values.filter({ $0.workflow.name == run.workflow.name && !$0.isFinished }).count >= limit {
            heldRuns[run.workflow.name, default: []].append(run)   // it stays queued until a slot frees
            return
        }
        runs[run.id] = run
        if run.state.status != .running { run.record(.runStarted, at: time) }
        for step in run.workflow.steps {
            switch run.status(of: step.id) {
            case .running, .interrupted, .retrying:
                // In flight when the host stopped: attempt again, same idempotency key.
                enqueue(run, step.id)
            case .pending where run.remainingNeeds[step.id] == 0:
                becomeReady(run, step.id, at: time)
            default:
                break
            }
        }
        finishIfDone(run, at: time)
    }

    /// A run of `workflow` ended: admit the next one held back by `max_active_runs`.
    func admitHeld(_ workflow: String, at time: Double) {
        guard var held = heldRuns[workflow], !held.isEmpty else { return }
        let next = held.removeFirst()
        heldRuns[workflow] = held.isEmpty ? nil : held
        add(next, at: time)
    }

    /// Queues the next attempt of a step.
    func enqueue(_ run: ActiveRun, _ stepID: String) {
        guard let step = run.steps[stepID], !run.queued.contains(stepID) else { return }
        run.queued.insert(stepID)
        ready.push(ReadyQueue.Entry(runID: run.id, stepID: stepID, attempt: (run.state.steps[stepID]?.attempts ?? 0) + 1),
                   priority: step.priority)
    }

    /// All of a step's needs have finished: skip it, or queue it.
    func becomeReady(_ run: ActiveRun, _ stepID: String, at time: Double) {
        guard let step = run.steps[stepID] else { return }
        if let need = step.needs.first(where: { !run.needSatisfied($0) }) {
            let why = run.status(of: need) == .skipped ? "was skipped" : "failed"
            run.record(.stepSkipped(step: stepID, reason: "it needs '\(need)', which \(why)"), at: time)
            stepFinished(run, stepID, at: time)
            return
        }
        if let condition = step.condition {
            let lookup = run.lookup(secrets: configuration.secrets)
            let value: JSONValue
            if Template.hasExpressionMarker(condition) {
                value = (try? Template(parsing: condition))?.render(lookup) ?? .bool(false)
            } else {
                value = (try? Expression.parse(condition))?.evaluate(lookup) ?? .bool(false)
            }
            if !value.isTruthy {
                run.record(.stepSkipped(step: stepID, reason: "its condition is false: \(condition)"), at: time)
                stepFinished(run, stepID, at: time)
                return
            }
        }
        enqueue(run, stepID)
    }

    /// A step finished: its dependents may become ready; the run may be done.
    func stepFinished(_ run: ActiveRun, _ stepID: String, at time: Double) {
        for dependent in run.dag.dependents[stepID] ?? [] {
            run.remainingNeeds[dependent, default: 1] -= 1
            if run.remainingNeeds[dependent] == 0 && run.status(of: dependent) == .pending {
                becomeReady(run, dependent, at: time)
            }
        }
        finishIfDone(run, at: time)
    }

    func finishIfDone(_ run: ActiveRun, at time: Double) {
        guard !run.isFinished, run.inFlight.isEmpty, run.queued.isEmpty, run.allStepsFinished else { return }
        let failed = run.workflow.steps.first { run.status(of: $0.id) == .failed && !$0.continueOnError }
        if let failed {
            let error = run.state.steps[failed.id]?.lastError
            run.record(.runFinished(status: .failed, message: "step '\(failed.id)' failed (\(error?.errorClass.rawValue ?? "permanent")): \(error?.message ?? "")"),
                       at: time)
        } else {
            run.record(.runFinished(status: .succeeded, message: nil), at: time)
        }
    }

    private func cancel(runID: String, reason: String, at time: Double) {
        guard let run = runs[runID], !run.isFinished else { return }
        run.cancelling = true
        run.record(.cancelRequested(reason: reason), at: time)
        for (stepID, flight) in run.inFlight {
            flight.cancelAll()
            release(run, stepID)
        }
        run.queued.removeAll()
        run.record(.runFinished(status: .cancelled, message: reason), at: time)
    }

    /// Forgets an in-flight attempt's slots (its calls may still be running).
    func release(_ run: ActiveRun, _ stepID: String) {
        guard let flight = run.inFlight.removeValue(forKey: stepID) else { return }
        for call in flight.runningCalls {
            inFlightTotal -= 1
            inFlightByPlugin[call.plugin, default: 1] -= 1
        }
        if let key = flight.concurrencyKey { busyKeys.remove(key) }
        // Its timeout and hedge timers have nothing left to watch: a long
        // timeout would otherwise keep them, and the loop scans them all.
        if flight.timeout != nil || flight.hedging != nil || flight.plugin == "sleep" {
            timers.removeAll { $0.runID == run.id && $0.step == stepID && $0.watches(attempt: flight.attempt) }
        }
    }

    /// Gives up on an attempt's running calls: they are cancelled, their
    /// threads replaced, and what they return later is dropped.
    func abandonCalls(_ run: ActiveRun, _ stepID: String, except winner: Int? = nil) {
        guard let flight = run.inFlight[stepID] else { return }
        for call in flight.runningCalls where call.call != winner {
            call.token.cancel()
            abandoned.insert(abandonedKey(run.id, stepID, flight.attempt, call.call))
            pool.abandonOne()
        }
    }

    func abandonedKey(_ runID: String, _ stepID: String, _ attempt: Int, _ call: Int) -> String {
        "\(runID)/\(stepID)/\(attempt)/\(call)"
    }

    private func fireTimers(at time: Double) {
        guard timers.contains(where: { $0.due <= time }) else { return }
        let due = timers.filter { $0.due <= time }
        timers.removeAll { $0.due <= time }
        for timer in due {
            guard let run = runs[timer.runID], !run.isFinished else { continue }
            switch timer.kind {
            case .retry:
                if run.status(of: timer.step) == .retrying { enqueue(run, timer.step) }
            case .admit(let attempt):
                // A strategy asked this attempt to wait; it is still queued.
                if let step = run.steps[timer.step], run.queued.contains(timer.step) {
                    ready.push(ReadyQueue.Entry(runID: run.id, stepID: timer.step, attempt: attempt), priority: step.priority)
                }
            case .timeout(let attempt):
                guard let flight = run.inFlight[timer.step], flight.attempt == attempt,
                      let step = run.steps[timer.step] else { continue }
                abandonCalls(run, timer.step)
                for call in flight.runningCalls {
                    recordOutcome(run, step, attempt: attempt, plugin: call.plugin, result: .retryable,
                                  duration: time - flight.call(call.call).started)
                }
                release(run, timer.step)
                let limit = flight.timeout.map { formatDuration($0) } ?? "its timeout"
                failed(run, timer.step, attempt: attempt, errorClass: .retryable,
                       message: "timed out after \(limit); the call was abandoned", retryAfter: 0, timedOut: true, at: time)
            case .hedge(let attempt):
                startHedge(run, timer.step, attempt: attempt, at: time)
            case .sleep(let attempt, let call, let outcome):
                if let step = run.steps[timer.step], let flight = run.inFlight[timer.step], flight.attempt == attempt {
                    let result: ErrorClass? = if case .failure(let errorClass, _, _) = outcome { errorClass } else { nil }
                    recordOutcome(run, step, attempt: attempt, plugin: "sleep", result: result, duration: time - flight.started)
                }
                completed(runID: run.id, step: timer.step, attempt: attempt, call: call, outcome: outcome, at: time)
            case .drainDeadline:
                break
            }
        }
    }

    private func checkDrain(at time: Double) {
        guard let drain = draining, inFlightTotal == 0 || time >= drain.deadline else { return }
        for run in runs.values where !run.isFinished {
            for (stepID, flight) in run.inFlight {
                flight.cancelAll()
                run.record(.stepInterrupted(step: stepID, attempt: flight.attempt), at: time)
                release(run, stepID)
            }
            run.queued.removeAll()
            run.record(.runInterrupted, at: time)
        }
        draining = nil
        drainDone = drain.done
    }
}
