import Foundation
import TrellisCore
import TrellisPluginHost

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
                key.contains("${{") ? ((try? Template(parsing: key))?.render(lookup).interpolated ?? key) : key
            }
            if let key, busyKeys.contains(key) { return .keep }
            run.queued.remove(step.id)
            let inputs = step.with.rendered(lookup)
            if let cache = step.cache, let hit = cachedOutput(run, step, inputs, maxAge: cache.ttlSeconds, at: time) {
                run.record(.stepSucceeded(step: step.id, attempt: entry.attempt, output: hit, fromCache: true, quality: nil),
                           at: time)
                stepFinished(run, step.id, at: time)
                return .take
            }
            start(run, step, attempt: entry.attempt, inputs: inputs, concurrencyKey: key, at: time)
            return .take
        }
    }

    private func start(_ run: ActiveRun, _ step: Step, attempt: Int, inputs: JSONValue, concurrencyKey: String?,
                       at time: Double) {
        let idempotencyKey = "\(run.id)/\(step.id)"
        run.record(.stepStarted(step: step.id, attempt: attempt, key: idempotencyKey, plugin: step.uses), at: time)
        let token = CancellationToken()
        run.inFlight[step.id] = ActiveRun.InFlight(attempt: attempt, token: token, plugin: step.uses,
                                                   concurrencyKey: concurrencyKey, inputs: inputs)
        inFlightTotal += 1
        inFlightByPlugin[step.uses, default: 0] += 1
        if let concurrencyKey { busyKeys.insert(concurrencyKey) }
        var deadline: Int64?
        if let timeout = step.timeoutSeconds {
            timers.append(Timer(due: time + timeout, runID: run.id, step: step.id, kind: .timeout(attempt: attempt)))
            deadline = Int64((time + timeout) * 1000)
        }
        let context = PluginCallContext(idempotencyKey: idempotencyKey, runID: run.id, stepID: step.id,
                                        attempt: UInt32(attempt), deadlineUnixMilliseconds: deadline, cancellation: token)
        let invoker = self.invoker, uses = step.uses, runID = run.id, stepID = step.id
        jobsToSubmit.append((run.id, { [weak self] in
            let outcome = invoker.invoke(uses, inputs: inputs, context: context)
            self?.send(.completed(runID: runID, step: stepID, attempt: attempt, outcome: outcome))
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

    func cachedOutput(_ run: ActiveRun, _ step: Step, _ inputs: JSONValue, maxAge: Double, at time: Double) -> JSONValue? {
        do {
            return try store.cachedOutput(key: cacheKey(run, step, inputs), maxAge: maxAge, now: time)
        } catch {
            logger.warning("step cache unreadable", metadata: ["run.id": "\(run.id)", "step.id": "\(step.id)", "error": "\(error)"])
            return nil
        }
    }
}
