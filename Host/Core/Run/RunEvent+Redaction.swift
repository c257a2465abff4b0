import TrellisJSON

extension RunEvent {
    /// The event with every secret the redactor knows masked in what it
    /// carries (outputs, inputs, messages, details), as it is stored and shown.
    public func redacted(by redactor: Redactor = .shared) -> RunEvent {
        // The runner's hot path: with no secret registered, nothing is rebuilt.
        guard !redactor.isEmpty else { return self }
        switch self {
        case .runQueued(var queued):
            queued.inputs = queued.inputs.mapValues(redactor.redact)
            return .runQueued(queued)
        case .stepAttemptFailed(let step, let attempt, let errorClass, let message, let retryAfter, let timedOut):
            return .stepAttemptFailed(step: step, attempt: attempt, errorClass: errorClass, message: redactor.redact(message),
                                      retryAfterMilliseconds: retryAfter, timedOut: timedOut)
        case .recoveryDecided(let step, let attempt, let strategy, let decision, let delay, let detail):
            return .recoveryDecided(step: step, attempt: attempt, strategy: strategy, decision: decision, delayMilliseconds: delay,
                                    detail: detail.map(redactor.redact))
        case .stepSucceeded(let step, let attempt, let output, let fromCache, let quality, let stale):
            return .stepSucceeded(step: step, attempt: attempt, output: redactor.redact(output), fromCache: fromCache,
                                  quality: quality, staleAgeMilliseconds: stale)
        case .stepSkipped(let step, let reason):
            return .stepSkipped(step: step, reason: redactor.redact(reason))
        case .stepFailed(let step, let errorClass, let message):
            return .stepFailed(step: step, errorClass: errorClass, message: redactor.redact(message))
        case .cancelRequested(let reason):
            return .cancelRequested(reason: redactor.redact(reason))
        case .runFinished(let status, let message):
            return .runFinished(status: status, message: message.map(redactor.redact))
        case .runStarted, .stepStarted, .stepInterrupted, .runInterrupted:
            return self
        }
    }
}
