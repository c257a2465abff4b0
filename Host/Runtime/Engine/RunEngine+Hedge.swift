import TrellisCore
import TrellisPluginHost

/// Hedging: an attempt that has not answered after a strategy's delay gets
/// another call (of the same plugin, or of a fallback target), up to the
/// plan's limit. The first success wins and the other calls are cancelled
/// and abandoned; the attempt fails only when its last running call fails.
extension RunEngine {
    /// A hedge timer fired: start another call if the attempt is still waiting.
    func startHedge(_ run: ActiveRun, _ stepID: String, attempt: Int, at time: Double) {
        guard var flight = run.inFlight[stepID], flight.attempt == attempt, let hedging = flight.hedging,
              flight.hedges.count < hedging.plan.maxHedges else { return }
        let uses = hedging.plan.uses ?? flight.plugin
        guard plugins?.instance(uses) != nil || Step.builtIns.contains(uses) else {
            recordDecision(run, stepID, attempt: attempt, strategy: hedging.strategy, decision: "hedge_skipped", at: time,
                           detail: ["plugin": .string(uses), "reason": "the plugin is not loaded"])
            return
        }
        let inputs = hedging.plan.with.map { $0.rendered(run.lookup(secrets: configuration.secrets)) } ?? flight.inputs
        let token = CancellationToken()
        flight.hedges.append(ActiveRun.InFlight.HedgeCall(token: token, plugin: uses, inputs: inputs, started: time))
        let call = flight.hedges.count
        run.inFlight[stepID] = flight
        inFlightTotal += 1
        inFlightByPlugin[uses, default: 0] += 1
        recordDecision(run, stepID, attempt: attempt, strategy: hedging.strategy, decision: "hedge", at: time,
                       detail: ["call": .number(Double(call)), "plugin": .string(uses)])
        let deadline = flight.timeout.map { Int64((flight.started + $0) * 1000) }
        submitCall(run, stepID, attempt: attempt, call: call, uses: uses, inputs: inputs, token: token, deadline: deadline)
        if call < hedging.plan.maxHedges {
            timers.append(Timer(due: time + Double(hedging.plan.afterMilliseconds) / 1000, runID: run.id, step: stepID,
                                kind: .hedge(attempt: attempt)))
        }
    }

    /// One call of a hedged attempt failed while others still run: note it,
    /// free its slot, and wait for the others.
    func hedgeCallFailed(_ run: ActiveRun, _ step: Step, _ flight: inout ActiveRun.InFlight, call: Int,
                         outcome: StepOutcome, at time: Double) {
        let plugin = flight.call(call).plugin
        flight.finish(call)
        run.inFlight[step.id] = flight
        inFlightTotal -= 1
        inFlightByPlugin[plugin, default: 1] -= 1
        guard case .failure(let errorClass, let message, _) = outcome, let hedging = flight.hedging else { return }
        recordDecision(run, step.id, attempt: flight.attempt, strategy: hedging.strategy, decision: "hedge_call_failed",
                       at: time, detail: ["call": .number(Double(call)), "plugin": .string(plugin),
                                          "class": .string(errorClass.rawValue), "message": .string(message)])
    }
}
