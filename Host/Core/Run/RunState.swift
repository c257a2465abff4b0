import TrellisJSON

/// A run's state: the fold of its events. The runner keeps it in memory
/// while it runs; the store keeps it as rows; `trellis runs replay` folds
/// the events again and compares.
public struct RunState: Sendable, Hashable {
    public var id: String
    public var workflow: String = ""
    public var file: String = ""
    public var source: String = ""
    public var inputs: [String: JSONValue] = [:]
    public var trigger: String = ""
    public var status: RunStatus = .queued
    public var message: String?
    public var cancelRequested = false
    /// The number of events folded in: the stream's version.
    public var version: Int64 = 0
    /// Unix seconds of the first and the latest event.
    public var createdAt: Double = 0
    public var updatedAt: Double = 0
    public var steps: [String: StepState] = [:]

    public init(id: String) { self.id = id }

    /// Folds every event in order, with the time each was recorded.
    public static func fold(id: String, _ events: some Sequence<(RunEvent, Double)>) -> RunState {
        var state = RunState(id: id)
        for (event, time) in events { state.apply(event, at: time) }
        return state
    }

    /// Applies one event recorded at `time` (Unix seconds).
    public mutating func apply(_ event: RunEvent, at time: Double) {
        version += 1
        if createdAt == 0 { createdAt = time }
        updatedAt = time
        if let id = event.step {
            update(id) { step in
                switch event {
                case .stepStarted:
                    if step.startedAt == nil { step.startedAt = time }
                    step.finishedAt = nil
                case .stepSucceeded, .stepSkipped, .stepFailed:
                    step.finishedAt = time
                default:
                    break
                }
            }
        }
        switch event {
        case .runQueued(let queued):
            workflow = queued.workflow
            file = queued.file
            source = queued.source
            inputs = queued.inputs
            trigger = queued.trigger
            status = .queued
            for id in queued.steps where steps[id] == nil { steps[id] = StepState(id: id) }
        case .runStarted:
            status = .running
        case .stepStarted(let id, let attempt, let key, let plugin):
            update(id) {
                $0.status = .running
                $0.plugin = plugin
                $0.attempts = max($0.attempts, attempt)
                $0.idempotencyKey = key
            }
        case .stepAttemptFailed(let id, let attempt, let errorClass, let message, _, let timedOut):
            update(id) {
                // An attempt a strategy rejected before it started still counts.
                $0.attempts = max($0.attempts, attempt)
                $0.lastError = StepError(errorClass: errorClass, message: message, timedOut: timedOut)
            }
        case .recoveryDecided(let id, let attempt, let strategy, let decision, let delay, let detail):
            update(id) {
                // The failure decided on is the step's latest (hedge starts have none).
                let errorClass = decision == "hedge" || decision == "hedge_won" ? nil : $0.lastError?.errorClass
                $0.decisions.append(RecoveryRecord(attempt: attempt, strategy: strategy, decision: decision,
                                                   delayMilliseconds: delay, errorClass: errorClass))
                if decision == "retry" || decision == "fallback" { $0.status = .retrying }
                if decision == "fallback", let detail { $0.fallback = detail }
                // A hedged call that answered first names the plugin it called.
                if decision == "hedge_won", let plugin = detail?["plugin"]?.stringValue { $0.plugin = plugin }
            }
        case .stepSucceeded(let id, let attempt, let output, let fromCache, let quality, let staleAge):
            update(id) {
                $0.staleAgeMilliseconds = staleAge
                $0.status = .succeeded
                $0.attempts = max($0.attempts, attempt)
                $0.output = output
                $0.fromCache = fromCache
                $0.quality = quality
            }
        case .stepSkipped(let id, let reason):
            update(id) {
                $0.status = .skipped
                $0.skipReason = reason
            }
        case .stepFailed(let id, let errorClass, let message):
            update(id) {
                $0.status = .failed
                $0.lastError = StepError(errorClass: errorClass, message: message,
                                         timedOut: $0.lastError?.timedOut ?? false)
            }
        case .stepInterrupted(let id, _):
            update(id) { $0.status = .interrupted }
        case .cancelRequested:
            cancelRequested = true
        case .runFinished(let finalStatus, let finalMessage):
            status = finalStatus
            message = finalMessage
            for (id, step) in steps where !step.status.isFinished {
                steps[id]?.status = .cancelled
            }
        case .runInterrupted:
            status = .interrupted
        }
    }

    private mutating func update(_ id: String, _ body: (inout StepState) -> Void) {
        body(&steps[id, default: StepState(id: id)])
    }
}

/// One step's state within a run.
public struct StepState: Sendable, Hashable {
    public var id: String
    public var status: StepStatus = .pending
    public var attempts = 0
    public var idempotencyKey: String?
    /// The plugin (or built-in) the latest attempt called.
    public var plugin: String?
    /// Where a fallback decision sent the next attempts: `{"uses", "with"}`.
    public var fallback: JSONValue?
    public var output: JSONValue?
    public var fromCache = false
    public var quality: Double?
    /// Set when a recovery strategy served an older output (cache fallback):
    /// how old it was, in milliseconds.
    public var staleAgeMilliseconds: UInt64?
    public var lastError: StepError?
    public var skipReason: String?
    public var decisions: [RecoveryRecord] = []
    public var startedAt: Double?
    public var finishedAt: Double?

    public init(id: String) { self.id = id }
}

public struct StepError: Sendable, Hashable {
    public var errorClass: ErrorClass
    public var message: String
    public var timedOut: Bool
}

public struct RecoveryRecord: Sendable, Hashable {
    public var attempt: Int
    public var strategy: String
    public var decision: String
    public var delayMilliseconds: UInt64
    /// The class of the failure decided on.
    public var errorClass: ErrorClass?

    public init(attempt: Int, strategy: String, decision: String, delayMilliseconds: UInt64, errorClass: ErrorClass? = nil) {
        self.attempt = attempt
        self.strategy = strategy
        self.decision = decision
        self.delayMilliseconds = delayMilliseconds
        self.errorClass = errorClass
    }
}
