import TrellisJSON

/// The stored form of events: a type name and a JSON object.
extension RunEvent {
    /// The event's stored JSON (``dataJSON``) as a value.
    public var data: JSONValue { JSONValue(written: dataJSON) }

    /// Rebuilds an event from its stored form.
    public init(type: String, data: JSONValue) throws(RunEventDecodingError) {
        func string(_ key: String) throws(RunEventDecodingError) -> String {
            guard let value = data[key]?.stringValue else { throw RunEventDecodingError(type: type, field: key) }
            return value
        }
        func int(_ key: String) throws(RunEventDecodingError) -> Int {
            guard let value = data[key]?.doubleValue else { throw RunEventDecodingError(type: type, field: key) }
            return Int(value)
        }
        func errorClass() throws(RunEventDecodingError) -> ErrorClass {
            guard let value = ErrorClass(rawValue: try string("class")) else { throw RunEventDecodingError(type: type, field: "class") }
            return value
        }
        switch type {
        case "run_queued":
            self = .runQueued(RunQueued(workflow: try string("workflow"), file: try string("file"), source: try string("source"),
                                        inputs: data["inputs"]?.objectValue ?? [:], trigger: try string("trigger"),
                                        steps: data["steps"]?.arrayValue?.compactMap(\.stringValue) ?? []))
        case "run_started": self = .runStarted
        case "run_interrupted": self = .runInterrupted
        case "step_started":
            self = .stepStarted(step: try string("step"), attempt: try int("attempt"), key: try string("key"),
                                plugin: data["plugin"]?.stringValue ?? "")
        case "step_attempt_failed":
            self = .stepAttemptFailed(step: try string("step"), attempt: try int("attempt"), errorClass: try errorClass(),
                                      message: try string("message"), retryAfterMilliseconds: UInt64(try int("retry_after_ms")),
                                      timedOut: data["timed_out"]?.boolValue ?? false)
        case "recovery_decided":
            self = .recoveryDecided(step: try string("step"), attempt: try int("attempt"), strategy: try string("strategy"),
                                    decision: try string("decision"), delayMilliseconds: UInt64(try int("delay_ms")),
                                    detail: data["detail"])
        case "step_succeeded":
            self = .stepSucceeded(step: try string("step"), attempt: try int("attempt"), output: data["output"] ?? .null,
                                  fromCache: data["from_cache"]?.boolValue ?? false, quality: data["quality"]?.doubleValue,
                                  staleAgeMilliseconds: data["stale_age_ms"]?.doubleValue.map { UInt64(max(0, $0)) })
        case "step_skipped": self = .stepSkipped(step: try string("step"), reason: try string("reason"))
        case "step_failed": self = .stepFailed(step: try string("step"), errorClass: try errorClass(), message: try string("message"))
        case "step_interrupted": self = .stepInterrupted(step: try string("step"), attempt: try int("attempt"))
        case "cancel_requested": self = .cancelRequested(reason: try string("reason"))
        case "run_finished":
            guard let status = RunStatus(rawValue: try string("status")) else {
                throw RunEventDecodingError(type: type, field: "status")
            }
            self = .runFinished(status: status, message: data["message"]?.stringValue)
        default:
            throw RunEventDecodingError(type: type, field: nil)
        }
    }
}

public struct RunEventDecodingError: Error, Sendable, CustomStringConvertible {
    public var type: String
    public var field: String?
    public var description: String {
        field.map { "event '\(type)' lacks a valid '\($0)'" } ?? "unknown event type '\(type)'"
    }
}
