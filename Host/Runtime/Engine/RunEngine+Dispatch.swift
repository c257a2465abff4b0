import Foundation
import TrellisCore
import TrellisPluginHost
import TrellisStore

extension RunEngine {
    /// Starts ready steps, highest priority first, within the limits:
    /// global, per plugin, and one at a time per concurrency key.
    func dispatch(at time: Double) {
        guard draining == nil else { return }
        let maximum = configuration.maxConcurrentSteps
        ready.drain { entry in
            guard inFlightTotal < maximum else { return .stop }
            guard let run = runs[entry.runID], !run.cancelling, !run.isFinished,
                  let step = run.steps[entry.stepID] else { return .drop }
            if let limit = configuration.pluginPoolSizes[step.uses], inFlightByPlugin[step.uses, default: 0] >= limit {
                return .keep
            }
            let lookup = run.lookup(secrets: configuration.secrets)
            let key = step.concurrencyKey.map { key in
                Template.hasExpressionMarker(key) ? ((try? Template(parsing: key))?.render(lookup).interpolated ?? key) : key
            }
            if let key, busyKeys.contains(key) { return .keep }
            run.queued.remove(step.id)
            // After a fallback decision, attempts call the fallback's target.
            let fallback = run.state.steps[step.id]?.fallback
            let uses = fallback?["uses"]?.stringValue ?? step.uses
            let fallbackInputs = fallback?["with"].flatMap { $0 == .null ? nil : $0 }
            let inputs = (fallbackInputs ?? step.with).rendered(lookup)
            if fallback == nil, let cache = step.cache,
               let hit = cachedOutput(run, step, inputs, maxAge: cache.ttlSeconds, at: time) {
                run.record(.stepSucceeded(step: step.id, attempt: entry.attempt, output: hit.output, fromCache: true, quality: nil),
                           at: time)
                stepFinished(run, step.id, at: time)
                return .take
            }
            // An attempt a worker already admitted starts without asking again.
            if let done = run.admitted.removeValue(forKey: step.id), done.attempt == entry.attempt {
                start(run, step, attempt: entry.attempt, uses: uses, inputs: inputs, concurrencyKey: key,
                      attemptTimeout: done.attemptTimeout, hedging: done.hedging, at: time)
                return .take
            }
            switch admit(run, step, attempt: entry.attempt, uses: uses, at: time) {
            case .proceed(let attemptTimeout, let hedging):
                start(run, step, attempt: entry.attempt, uses: uses, inputs: inputs, concurrencyKey: key,
                      attemptTimeout: attemptTimeout, hedging: hedging, at: time)
            case .delayed, .asked:
                run.queued.insert(step.id)
            case .rejected:
                break
            }
            return .take
        }
    }

    enum AdmissionOutcome {
        case proceed(attemptTimeout: Double?, hedging: (strategy: String, plan: HedgePlan)?)
        case delayed
        case rejected
        /// A worker is asking (the pipeline has a slow strategy); its answer comes as `admitted`.
        case asked
    }

    /// Asks the step's recovery strategies, in order, whether the attempt may
    /// start: one may delay it (a timer re-queues it; no thread waits), reject
    /// it without calling the plugin (a failed attempt, decided on as usual),
    /// or give it its own deadline.
    /// Asks the step's pipeline on the engine thread, where admission is a
    /// few calls of a microsecond; a strategy that once takes longer than
    /// `admitBound` is asked on worker threads from then on, so a slow one
    /// stalls the engine at most once.
    private func admit(_ run: ActiveRun, _ step: Step, attempt: Int, uses: String, at time: Double) -> AdmissionOutcome {
        guard let pipeline = run.pipelines[step.id] else { return .proceed(attemptTimeout: nil, hedging: nil) }
        let startedAt = run.state.steps[step.id]?.startedAt ?? time
        let context = PluginCallContext(idempotencyKey: "\(run.id)/\(step.id)", runID: run.id, stepID: step.id, attempt: UInt32(attempt))
        if pipeline.entries.contains(where: { slowAdmitters.contains($0.uses) }) {
            run.admitting[step.id] = attempt
            let runID = run.id, stepID = step.id
            jobsToSubmit.append((run.id, { [weak self] in
                let (admission, failures) = pipeline.admit(attempt: attempt, elapsed: time - startedAt, key: uses, context: context)
                self?.send(.admitted(runID: runID, step: stepID, attempt: attempt, admission, failures))
            }))
            return .asked
        }
        let (admission, failures, slowest) = pipeline.timedAdmit(attempt: attempt, elapsed: time - startedAt, key: uses, context: context)
        if let slowest, slowest.seconds > admitBound, slowAdmitters.insert(slowest.strategy).inserted {
            logger.warning("a recovery strategy took \(Int(slowest.seconds * 1000)) ms to admit an attempt; its admissions now run on worker threads",
                           metadata: ["plugin.id": "\(slowest.strategy)", "run.id": "\(run.id)", "step.id": "\(step.id)"])
        }
        return applyAdmission(run, step, attempt: attempt, admission, failures, at: time)
    }

    /// A worker's answer for an attempt of a slow strategy's pipeline.
    func admitted(runID: String, step stepID: String, attempt: Int, _ admission: RecoveryPipeline.Admission,
                  _ failures: [RecoveryPipeline.StrategyFailure], at time: Double) {
        guard let run = runs[runID], !run.isFinished, !run.cancelling, run.admitting[stepID] == attempt,
              let step = run.steps[stepID] else { return }
        run.admitting[stepID] = nil
        // Out of the queue while the answer applies (a rejection may finish the run).
        run.queued.remove(stepID)
        switch applyAdmission(run, step, attempt: attempt, admission, failures, at: time) {
        case .proceed(let attemptTimeout, let hedging):
            // It waits its turn within the limits, like any ready attempt.
            run.queued.insert(stepID)
            run.admitted[stepID] = (attempt, attemptTimeout, hedging)
            ready.push(ReadyQueue.Entry(runID: run.id, stepID: stepID, attempt: attempt), priority: step.priority)
        case .delayed, .asked:
            run.queued.insert(stepID)
        case .rejected:
            break
        }
    }

    /// Records an admission's strategy failures and applies its answer: a
    /// delay (a timer re-queues the attempt; no thread waits) or a rejection
    /// (a failed attempt, decided on as usual).
    private func applyAdmission(_ run: ActiveRun, _ step: Step, attempt: Int, _ admission: RecoveryPipeline.Admission,
                                _ failures: [RecoveryPipeline.StrategyFailure], at time: Double) -> AdmissionOutcome {
        // A strategy that could not answer admitted the attempt; it is recorded, not swallowed.
        for failure in failures {
            recordDecision(run, step.id, attempt: attempt, strategy: failure.strategy, decision: "strategy_failed", at: time,
                           detail: ["message": .string(failure.message)])
        }
        switch admission {
        case .proceed(let attemptTimeout, let hedging):
            return .proceed(attemptTimeout: attemptTimeout, hedging: hedging)
        case .delay(let milliseconds, let strategy):
            counters.count(strategy: strategy, decision: "delay")
            timers.append(Timer(due: time + Double(milliseconds) / 1000, runID: run.id, step: step.id, kind: .admit(attempt: attempt)))
            return .delayed
        case .reject(let summary, let strategy):
            counters.count(strategy: strategy, decision: "reject")
            failed(run, step.id, attempt: attempt, errorClass: summary.errorClass, message: summary.message,
                   retryAfter: summary.retryAfterMilliseconds, timedOut: false, at: time)
            return .rejected
        }
    }

    private func start(_ run: ActiveRun, _ step: Step, attempt: Int, uses: String, inputs: JSONValue, concurrencyKey: String?,
                       attemptTimeout: Double?, hedging: (strategy: String, plan: HedgePlan)?, at time: Double) {
        let idempotencyKey = "\(run.id)/\(step.id)"
        run.record(.stepStarted(step: step.id, attempt: attempt, key: idempotencyKey, plugin: uses), at: time)
        let token = CancellationToken()
        run.inFlight[step.id] = ActiveRun.InFlight(attempt: attempt, token: token, plugin: uses,
                                                   concurrencyKey: concurrencyKey, inputs: inputs, started: time)
        let stepLeft = step.timeoutSeconds.map { $0 - (time - (run.state.steps[step.id]?.startedAt ?? time)) }
        let timeout = [stepLeft, attemptTimeout].compactMap({ $0 }).min()
        run.inFlight[step.id]?.timeout = timeout
        if let hedging {
            run.inFlight[step.id]?.hedging = hedging
            timers.append(Timer(due: time + Double(hedging.plan.afterMilliseconds) / 1000, runID: run.id, step: step.id,
                                kind: .hedge(attempt: attempt)))
        }
        inFlightTotal += 1
        inFlightByPlugin[uses, default: 0] += 1
        if let concurrencyKey { busyKeys.insert(concurrencyKey) }
        var deadline: Int64?
        // The step's timeout bounds all its attempts together; a strategy may
        // give one attempt a shorter deadline.
        if let timeout {
            timers.append(Timer(due: time + timeout, runID: run.id, step: step.id, kind: .timeout(attempt: attempt)))
            deadline = Int64((time + timeout) * 1000)
        }
        submitCall(run, step.id, attempt: attempt, call: 0, uses: uses, inputs: inputs, token: token, deadline: deadline)
    }

    /// Queues one call of an attempt for the worker pool (submitted after
    /// the commit). A `sleep` is a timer of the engine's instead: it fires
    /// in a later turn, so after the commit too, and holds no thread.
    func submitCall(_ run: ActiveRun, _ stepID: String, attempt: Int, call: Int, uses: String, inputs: JSONValue,
                    token: CancellationToken, deadline: Int64?) {
        if uses == "sleep" {
            let time = now()
            guard let seconds = inputs["duration"]?.durationSeconds, seconds >= 0 else {
                let outcome = StepOutcome.failure(.config, message: "a sleep step needs `with: { duration: 5s }`", retryAfterMilliseconds: 0)
                timers.append(Timer(due: time, runID: run.id, step: stepID, kind: .sleep(attempt: attempt, call: call, outcome: outcome)))
                return
            }
            let outcome = StepOutcome.success(["slept_ms": .number((seconds * 1000).rounded())])
            timers.append(Timer(due: time + seconds, runID: run.id, step: stepID, kind: .sleep(attempt: attempt, call: call, outcome: outcome)))
            return
        }
        let context = PluginCallContext(idempotencyKey: "\(run.id)/\(stepID)", runID: run.id, stepID: stepID,
                                        attempt: UInt32(attempt), deadlineUnixMilliseconds: deadline, cancellation: token,
                                        workflow: run.workflow.name)
        let invoker = self.invoker, runID = run.id, pipeline = run.pipelines[stepID], now = self.now
        jobsToSubmit.append((run.id, { [weak self] in
            let started = now()
            let outcome = invoker.invoke(uses, inputs: inputs, context: context)
            // The strategies hear the outcome here, on the worker, so a slow
            // one holds up this attempt only. A call given up on (its token
            // cancelled) was already reported to them as timed out.
            if let pipeline, !token.isCancelled {
                let result: ErrorClass? = if case .failure(let errorClass, _, _) = outcome { errorClass } else { nil }
                let failures = pipeline.record(key: uses, result: result, duration: now() - started)
                if !failures.isEmpty { self?.send(.strategyFailures(runID: runID, step: stepID, attempt: attempt, failures)) }
            }
            self?.send(.completed(runID: runID, step: stepID, attempt: attempt, call: call, outcome: outcome))
        }))
    }

    /// The step cache's key: the workflow, the step, and its resolved inputs.
    func cacheKey(_ run: ActiveRun, _ step: Step, _ inputs: JSONValue) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in inputs.jsonBytes() {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return "\(run.workflow.name)/\(step.id)/\(step.uses)/\(String(hash, radix: 16))"
    }

    func cachedOutput(_ run: ActiveRun, _ step: Step, _ inputs: JSONValue, maxAge: Double, at time: Double) -> CachedOutput? {
        do {
            return try store.cachedOutput(key: cacheKey(run, step, inputs), maxAge: maxAge, now: time)
        } catch {
            logger.warning("step cache unreadable", metadata: ["run.id": "\(run.id)", "step.id": "\(step.id)", "error": "\(error)"])
            return nil
        }
    }
}

extension RunEngine {
    /// Whether the step's successful outputs are kept: for its `cache:`, or
    /// because a strategy in its pipeline may serve the last good one.
    func keepsLastGoodOutput(_ step: Step) -> Bool {
        if step.cache != nil { return true }
        return step.recovery.contains { entry in
            if let known = servesLastGood[entry.uses] { return known }
            let serves = plugins?.manifest(of: entry.uses)?.usesLastGoodOutput ?? false
            servesLastGood[entry.uses] = serves
            return serves
        }
    }
}
