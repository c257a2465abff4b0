import TrellisCore
import TrellisPluginHost

/// What the engine keeps in memory for a run it is executing.
final class ActiveRun {
    var state: RunState
    /// The version the store holds (events after it are pending).
    var committedVersion: Int64
    var pending: [RunEvent] = []
    let workflow: Workflow
    let steps: [String: Step]
    let dag: DAG
    /// Written order, for FIFO among equal priorities.
    let order: [String: Int]
    /// Needs of each step not yet finished.
    var remainingNeeds: [String: Int]
    var inFlight: [String: InFlight] = [:]
    var cancelling = false
    /// Steps that became ready, not yet dispatched.
    var queued: Set<String> = []
    let inputs: [String: JSONValue]
    /// Each step's recovery pipeline (steps that declare none have none).
    let pipelines: [String: RecoveryPipeline]
    /// Failed attempts whose pipeline is deciding, on a worker thread, what
    /// to do, by step.
    var deciding: [String: Deciding] = [:]

    /// Attempts whose admission a worker is asking (a slow strategy's), by step.
    var admitting: [String: Int] = [:]
    /// Attempts a worker admitted, waiting for their turn in the ready queue.
    var admitted: [String: (attempt: Int, attemptTimeout: Double?, hedging: (strategy: String, plan: HedgePlan)?)] = [:]

    struct Deciding {
        var attempt: Int
        var failure: RecoveryFailure
    }

    struct InFlight {
        var attempt: Int
        var token: CancellationToken
        var plugin: String
        var concurrencyKey: String?
        /// The resolved inputs (for the step cache's key).
        var inputs: JSONValue
        /// When the attempt started, for the outcome strategies record.
        var started: Double
        /// The attempt's deadline, in seconds after it started.
        var timeout: Double?
        /// Whether the first call is still running (a hedged attempt may
        /// finish it before the attempt ends).
        var primaryRunning = true
        /// A hedging plan from a recovery strategy (its id and the plan).
        var hedging: (strategy: String, plan: HedgePlan)?
        /// Extra calls of this attempt started by hedging, numbered from 1.
        var hedges: [HedgeCall] = []

        struct HedgeCall {
            var token: CancellationToken
            var plugin: String
            var inputs: JSONValue
            var started: Double
            var running = true
        }

        /// Calls of the attempt still running: (call number, plugin, token).
        var runningCalls: [(call: Int, plugin: String, token: CancellationToken)] {
            (primaryRunning ? [(0, plugin, token)] : [])
                + hedges.enumerated().filter(\.element.running).map { ($0.offset + 1, $0.element.plugin, $0.element.token) }
        }

        func isRunning(_ call: Int) -> Bool {
            call == 0 ? primaryRunning : hedges.indices.contains(call - 1) && hedges[call - 1].running
        }

        /// The plugin, inputs and start of one call.
        func call(_ call: Int) -> (plugin: String, inputs: JSONValue, started: Double) {
            call == 0 ? (plugin, inputs, started) : (hedges[call - 1].plugin, hedges[call - 1].inputs, hedges[call - 1].started)
        }

        mutating func finish(_ call: Int) {
            if call == 0 { primaryRunning = false } else { hedges[call - 1].running = false }
        }

        /// Cancels every call still running.
        func cancelAll() {
            for call in runningCalls { call.token.cancel() }
        }
    }

    /// When this engine held the run's lease (a renewal that started
    /// earlier and missed the run tells nothing about it).
    let leasedAt: Double

    init(state: RunState, workflow: Workflow, leasedAt: Double,
         plugins: @escaping @Sendable (String) -> PluginInstance? = { _ in nil }) {
        self.state = state
        self.leasedAt = leasedAt
        committedVersion = state.version
        self.workflow = workflow
        steps = Dictionary(workflow.steps.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        dag = DAG(steps: workflow.steps)
        order = Dictionary(workflow.steps.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        remainingNeeds = [:]
        var inputs = state.inputs
        for spec in workflow.inputs where inputs[spec.name] == nil {
            if let value = spec.defaultValue { inputs[spec.name] = value }
        }
        self.inputs = inputs
        pipelines = Dictionary(workflow.steps.filter { !$0.recovery.isEmpty }.map { step in
            (step.id, RecoveryPipeline(step.recovery, plugins: plugins))
        }, uniquingKeysWith: { first, _ in first })
        for step in workflow.steps {
            remainingNeeds[step.id] = (dag.needs[step.id] ?? []).filter { !(state.steps[$0]?.status.isFinished ?? false) }.count
            if state.steps[step.id]?.status.isFinished == true { finishedSteps += 1 }
        }
    }

    var id: String { state.id }

    /// Steps whose status is final; the run is done when all are.
    private(set) var finishedSteps = 0

    /// Applies an event now and queues it for the next commit, with the
    /// secrets it would carry masked (in memory as in the store).
    func record(_ event: RunEvent, at time: Double) {
        let event = event.redacted()
        let step = event.step
        let wasFinished = step.map { status(of: $0).isFinished } ?? false
        state.apply(event, at: time)
        pending.append(event)
        if let step, steps[step] != nil, wasFinished != status(of: step).isFinished {
            finishedSteps += wasFinished ? -1 : 1
        }
    }

    var allStepsFinished: Bool { finishedSteps == workflow.steps.count }

    func status(of step: String) -> StepStatus { state.steps[step]?.status ?? .pending }

    /// Whether a finished need lets its dependents run.
    func needSatisfied(_ need: String) -> Bool {
        switch status(of: need) {
        case .succeeded: true
        case .failed: steps[need]?.continueOnError ?? false
        default: false
        }
    }

    /// What `${{ }}` expressions see. It reads the run's state when called
    /// (it must not keep a copy: that would make every later event copy the
    /// whole state), so use it right away.
    func lookup(secrets: [String: String]) -> (String) -> JSONValue? {
        { [unowned self] root in
            switch root {
            case "inputs": return .object(inputs)
            case "run": return ["id": .string(state.id), "workflow": .string(workflow.name), "trigger": .string(state.trigger)]
            case "secrets": return .object(secrets.mapValues(JSONValue.string))
            case "steps":
                var steps: [String: JSONValue] = [:]
                for (id, step) in state.steps {
                    steps[id] = ["output": step.output ?? .null, "status": .string(step.status.rawValue),
                                 "error": step.lastError.map { .string($0.message) } ?? .null,
                                 "plugin": step.plugin.map(JSONValue.string) ?? .null,
                                 "quality": step.quality.map(JSONValue.number) ?? .null,
                                 "stale": .bool(step.staleAgeMilliseconds != nil),
                                 "stale_age_ms": step.staleAgeMilliseconds.map { .number(Double($0)) } ?? .null,
                                 "attempts": .number(Double(step.attempts))]
                }
                return .object(steps)
            default: return nil
            }
        }
    }

    var isFinished: Bool { state.status.isFinished }
}
