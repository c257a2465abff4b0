import TrellisJSON

/// Every state change of a run and its steps. A run's state is the fold of
/// its events (``RunState/apply(_:)``); the store appends them and keeps the
/// fold's result as queryable tables.
public enum RunEvent: Sendable, Hashable {
    /// A run was created from a workflow.
    case runQueued(RunQueued)
    case runStarted
    /// An attempt of a step began, calling `plugin`; `key` is its idempotency key.
    case stepStarted(step: String, attempt: Int, key: String, plugin: String)
    /// An attempt failed. `timedOut` when the step's deadline passed.
    case stepAttemptFailed(step: String, attempt: Int, errorClass: ErrorClass, message: String,
                           retryAfterMilliseconds: UInt64, timedOut: Bool)
    /// A recovery strategy decided what to do after a failed attempt;
    /// `detail` carries a fallback's target (`{"uses", "with"}`).
    case recoveryDecided(step: String, attempt: Int, strategy: String, decision: String, delayMilliseconds: UInt64,
                         detail: JSONValue?)
    case stepSucceeded(step: String, attempt: Int, output: JSONValue, fromCache: Bool, quality: Double?,
                       staleAgeMilliseconds: UInt64? = nil)
    case stepSkipped(step: String, reason: String)
    /// A step failed for good (no recovery left).
    case stepFailed(step: String, errorClass: ErrorClass, message: String)
    /// The host stopped while the step ran; it will run again on resume.
    case stepInterrupted(step: String, attempt: Int)
    case cancelRequested(reason: String)
    case runFinished(status: RunStatus, message: String?)
    /// The host drained while the run was going; it resumes on restart.
    case runInterrupted

    /// The event's name in the store.
    public var type: String {
        switch self {
        case .runQueued: "run_queued"
        case .runStarted: "run_started"
        case .stepStarted: "step_started"
        case .stepAttemptFailed: "step_attempt_failed"
        case .recoveryDecided: "recovery_decided"
        case .stepSucceeded: "step_succeeded"
        case .stepSkipped: "step_skipped"
        case .stepFailed: "step_failed"
        case .stepInterrupted: "step_interrupted"
        case .cancelRequested: "cancel_requested"
        case .runFinished: "run_finished"
        case .runInterrupted: "run_interrupted"
        }
    }

    /// Whether the event sets the run's status or message.
    public var changesRunStatus: Bool {
        switch self {
        case .runQueued, .runStarted, .runFinished, .runInterrupted: true
        default: false
        }
    }

    /// The step the event is about, if any.
    public var step: String? {
        switch self {
        case .stepStarted(let step, _, _, _), .stepAttemptFailed(let step, _, _, _, _, _),
             .recoveryDecided(let step, _, _, _, _, _), .stepSucceeded(let step, _, _, _, _, _),
             .stepSkipped(let step, _), .stepFailed(let step, _, _), .stepInterrupted(let step, _):
            step
        default:
            nil
        }
    }
}

/// What a run is created with: the workflow as it was when the run started
/// (so a resumed run runs the same steps) and its inputs.
public struct RunQueued: Sendable, Hashable {
    public var workflow: String
    public var file: String
    /// The workflow file's text at queue time.
    public var source: String
    public var inputs: [String: JSONValue]
    /// What started it: `manual`, `cron`, `after:<workflow>` …
    public var trigger: String
    /// The workflow's step ids, so the run shows every step from the start.
    public var steps: [String]

    public init(workflow: String, file: String, source: String, inputs: [String: JSONValue], trigger: String,
                steps: [String] = []) {
        self.workflow = workflow
        self.file = file
        self.source = source
        self.inputs = inputs
        self.trigger = trigger
        self.steps = steps
    }
}

public enum RunStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case queued, running, succeeded, failed, cancelled, interrupted

    public var isFinished: Bool { self == .succeeded || self == .failed || self == .cancelled }
}

public enum StepStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case pending, running, retrying, succeeded, failed, skipped, cancelled, interrupted

    public var isFinished: Bool { self == .succeeded || self == .failed || self == .skipped || self == .cancelled }
}
