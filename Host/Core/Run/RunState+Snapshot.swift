/// A run's state as JSON: what a snapshot stores, so that loading a long
/// run folds only the events after its latest snapshot.
extension RunState {
    public var snapshot: JSONValue {
        var steps: [String: JSONValue] = [:]
        for (id, step) in self.steps { steps[id] = step.snapshot }
        return [
            "id": .string(id), "workflow": .string(workflow), "file": .string(file), "source": .string(source),
            "inputs": .object(inputs), "trigger": .string(trigger), "status": .string(status.rawValue),
            "message": message.map(JSONValue.string) ?? .null, "cancel_requested": .bool(cancelRequested),
            "version": .number(Double(version)), "created_at": .number(createdAt), "updated_at": .number(updatedAt),
            "steps": .object(steps),
        ]
    }

    public init(snapshot: JSONValue) throws(RunEventDecodingError) {
        guard let id = snapshot["id"]?.stringValue else { throw RunEventDecodingError(type: "snapshot", field: "id") }
        self.init(id: id)
        workflow = snapshot["workflow"]?.stringValue ?? ""
        file = snapshot["file"]?.stringValue ?? ""
        source = snapshot["source"]?.stringValue ?? ""
        inputs = snapshot["inputs"]?.objectValue ?? [:]
        trigger = snapshot["trigger"]?.stringValue ?? ""
        status = snapshot["status"]?.stringValue.flatMap(RunStatus.init) ?? .queued
        message = snapshot["message"]?.stringValue
        cancelRequested = snapshot["cancel_requested"]?.boolValue ?? false
        version = Int64(snapshot["version"]?.doubleValue ?? 0)
        createdAt = snapshot["created_at"]?.doubleValue ?? 0
        updatedAt = snapshot["updated_at"]?.doubleValue ?? 0
        for (stepID, value) in snapshot["steps"]?.objectValue ?? [:] {
            steps[stepID] = StepState(id: stepID, snapshot: value)
        }
    }
}

extension StepState {
    public var snapshot: JSONValue {
        var object: [String: JSONValue] = [
            "status": .string(status.rawValue), "attempts": .number(Double(attempts)), "from_cache": .bool(fromCache),
            "decisions": .array(decisions.map {
                var record: [String: JSONValue] = [
                    "attempt": .number(Double($0.attempt)), "strategy": .string($0.strategy), "decision": .string($0.decision),
                    "delay_ms": .number(Double($0.delayMilliseconds))]
                if let errorClass = $0.errorClass { record["class"] = .string(errorClass.rawValue) }
                return .object(record)
            }),
        ]
        if let idempotencyKey { object["key"] = .string(idempotencyKey) }
        if let plugin { object["plugin"] = .string(plugin) }
        if let fallback { object["fallback"] = fallback }
        if let output { object["output"] = output }
        if let quality { object["quality"] = .number(quality) }
        if let staleAgeMilliseconds { object["stale_age_ms"] = .number(Double(staleAgeMilliseconds)) }
        if let skipReason { object["skip_reason"] = .string(skipReason) }
        if let startedAt { object["started_at"] = .number(startedAt) }
        if let finishedAt { object["finished_at"] = .number(finishedAt) }
        if let lastError {
            object["error"] = ["class": .string(lastError.errorClass.rawValue), "message": .string(lastError.message),
                               "timed_out": .bool(lastError.timedOut)]
        }
        return .object(object)
    }

    public init(id: String, snapshot: JSONValue) {
        self.init(id: id)
        status = snapshot["status"]?.stringValue.flatMap(StepStatus.init) ?? .pending
        attempts = Int(snapshot["attempts"]?.doubleValue ?? 0)
        idempotencyKey = snapshot["key"]?.stringValue
        plugin = snapshot["plugin"]?.stringValue
        fallback = snapshot["fallback"]
        output = snapshot["output"]
        fromCache = snapshot["from_cache"]?.boolValue ?? false
        quality = snapshot["quality"]?.doubleValue
        staleAgeMilliseconds = snapshot["stale_age_ms"]?.doubleValue.map { UInt64(max(0, $0)) }
        skipReason = snapshot["skip_reason"]?.stringValue
        startedAt = snapshot["started_at"]?.doubleValue
        finishedAt = snapshot["finished_at"]?.doubleValue
        if let error = snapshot["error"], let errorClass = error["class"]?.stringValue.flatMap(ErrorClass.init) {
            lastError = StepError(errorClass: errorClass, message: error["message"]?.stringValue ?? "",
                                  timedOut: error["timed_out"]?.boolValue ?? false)
        }
        decisions = (snapshot["decisions"]?.arrayValue ?? []).map {
            RecoveryRecord(attempt: Int($0["attempt"]?.doubleValue ?? 0), strategy: $0["strategy"]?.stringValue ?? "",
                           decision: $0["decision"]?.stringValue ?? "",
                           delayMilliseconds: UInt64($0["delay_ms"]?.doubleValue ?? 0),
                           errorClass: $0["class"]?.stringValue.flatMap(ErrorClass.init))
        }
    }
}
