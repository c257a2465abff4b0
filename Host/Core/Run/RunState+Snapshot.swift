import TrellisJSON

/// A run's state as JSON: what a snapshot stores, so that loading a long
/// run folds only the events after its latest snapshot.
extension RunState {
    /// The stored snapshot (``snapshotJSON``) as a value.
    public var snapshot: JSONValue { JSONValue(written: snapshotJSON) }

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
    /// The step's stored projection (``snapshotJSON``) as a value.
    public var snapshot: JSONValue { JSONValue(written: snapshotJSON) }

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
