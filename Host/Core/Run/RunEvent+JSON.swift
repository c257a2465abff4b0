/// The stored form of events: a type name and a JSON object.
extension RunEvent {
    public var data: JSONValue {
        switch self {
        case .runQueued(let queued):
            return ["workflow": .string(queued.workflow), "file": .string(queued.file), "source": .string(queued.source),
                    "inputs": .object(queued.inputs), "trigger": .string(queued.trigger),
                    "steps": .array(queued.steps.map(JSONValue.string))]
        case .runStarted, .runInterrupted:
            return [:]
        case .stepStarted(let step, let attempt, let key, let plugin):
            return ["step": .string(step), "attempt": .number(Double(attempt)), "key": .string(key), "plugin": .string(plugin)]
        case .stepAttemptFailed(let step, let attempt, let errorClass, let message, let retryAfter, let timedOut):
            return ["step": .string(step), "attempt": .number(Double(attempt)), "class": .string(errorClass.rawValue),
                    "message": .string(message), "retry_after_ms": .number(Double(retryAfter)), "timed_out": .bool(timedOut)]
        case .recoveryDecided(let step, let attempt, let strategy, let decision, let delay, let detail):
            var data: [String: JSONValue] = ["step": .string(step), "attempt": .number(Double(attempt)),
                                             "strategy": .string(strategy), "decision": .string(decision),
                                             "delay_ms": .number(Double(delay))]
            if let detail { data["detail"] = detail }
            return .object(data)
        case .stepSucceeded(let step, let attempt, let output, let fromCache, let quality, let staleAge):
            var data: [String: JSONValue] = ["step": .string(step), "attempt": .number(Double(attempt)), "output": output,
                                             "from_cache": .bool(fromCache)]
            if let quality { data["quality"] = .number(quality) }
            if let staleAge { data["stale_age_ms"] = .number(Double(staleAge)) }
            return .object(data)
        case .stepSkipped(let step, let reason):
            return ["step": .string(step), "reason": .string(reason)]
        case .stepFailed(let step, let errorClass, let message):
            return ["step": .string(step), "class": .string(errorClass.rawValue), "message": .string(message)]
        case .stepInterrupted(let step, let attempt):
            return ["step": .string(step), "attempt": .number(Double(attempt))]
        case .cancelRequested(let reason):
            return ["reason": .string(reason)]
        case .runFinished(let status, let message):
            return ["status": .string(status.rawValue), "message": message.map(JSONValue.string) ?? .null]
        }
    }

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
