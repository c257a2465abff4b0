import TrellisCore

/// How one attempt of a step ended.
public enum StepOutcome: Sendable, Equatable {
    case success(JSONValue)
    case failure(ErrorClass, message: String, retryAfterMilliseconds: UInt64)
}
