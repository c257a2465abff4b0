import TrellisJSON

/// The stored JSON of events, step projections and snapshots, written
/// straight from the values with keys sorted (as `jsonBytes()` writes any
/// value), without building a `JSONValue` per event: the store writes these
/// for every state change. `data` and `snapshot` read them back as values.
extension RunEvent {
    public var dataJSON: [UInt8] {
        var out = JSONWriter(capacity: 96)
        out.beginObject()
        switch self {
        case .runQueued(let queued):
            out.key("file"); out.string(queued.file)
            out.key("inputs"); out.value(.object(queued.inputs))
            out.key("source"); out.string(queued.source)
            out.key("steps"); out.beginArray()
            for step in queued.steps { out.separate(); out.string(step) }
            out.endArray()
            out.key("trigger"); out.string(queued.trigger)
            out.key("workflow"); out.string(queued.workflow)
        case .runStarted, .runInterrupted:
            break
        case .stepStarted(let step, let attempt, let key, let plugin):
            out.key("attempt"); out.integer(Int64(attempt))
            out.key("key"); out.string(key)
            out.key("plugin"); out.string(plugin)
            out.key("step"); out.string(step)
        case .stepAttemptFailed(let step, let attempt, let errorClass, let message, let retryAfter, let timedOut):
            out.key("attempt"); out.integer(Int64(attempt))
            out.key("class"); out.string(errorClass.rawValue)
            out.key("message"); out.string(message)
            out.key("retry_after_ms"); out.number(Double(retryAfter))
            out.key("step"); out.string(step)
            out.key("timed_out"); out.bool(timedOut)
        case .recoveryDecided(let step, let attempt, let strategy, let decision, let delay, let detail):
            out.key("attempt"); out.integer(Int64(attempt))
            out.key("decision"); out.string(decision)
            out.key("delay_ms"); out.number(Double(delay))
            if let detail { out.key("detail"); out.value(detail) }
            out.key("step"); out.string(step)
            out.key("strategy"); out.string(strategy)
        case .stepSucceeded(let step, let attempt, let output, let fromCache, let quality, let staleAge):
            out.key("attempt"); out.integer(Int64(attempt))
            out.key("from_cache"); out.bool(fromCache)
            out.key("output"); out.value(output)
            if let quality { out.key("quality"); out.number(quality) }
            if let staleAge { out.key("stale_age_ms"); out.number(Double(staleAge)) }
            out.key("step"); out.string(step)
        case .stepSkipped(let step, let reason):
            out.key("reason"); out.string(reason)
            out.key("step"); out.string(step)
        case .stepFailed(let step, let errorClass, let message):
            out.key("class"); out.string(errorClass.rawValue)
            out.key("message"); out.string(message)
            out.key("step"); out.string(step)
        case .stepInterrupted(let step, let attempt):
            out.key("attempt"); out.integer(Int64(attempt))
            out.key("step"); out.string(step)
        case .cancelRequested(let reason):
            out.key("reason"); out.string(reason)
        case .runFinished(let status, let message):
            out.key("message")
            if let message { out.string(message) } else { out.null() }
            out.key("status"); out.string(status.rawValue)
        }
        out.endObject()
        return out.bytes
    }
}

extension StepState {
    /// The step's projection as stored.
    public var snapshotJSON: [UInt8] {
        var out = JSONWriter(capacity: 160)
        write(into: &out)
        return out.bytes
    }

    func write(into out: inout JSONWriter) {
        out.beginObject()
        out.key("attempts"); out.integer(Int64(attempts))
        out.key("decisions"); out.beginArray()
        for record in decisions {
            out.separate()
            out.beginObject()
            out.key("attempt"); out.integer(Int64(record.attempt))
            if let errorClass = record.errorClass { out.key("class"); out.string(errorClass.rawValue) }
            out.key("decision"); out.string(record.decision)
            out.key("delay_ms"); out.number(Double(record.delayMilliseconds))
            out.key("strategy"); out.string(record.strategy)
            out.endObject()
        }
        out.endArray()
        if let lastError {
            out.key("error"); out.beginObject()
            out.key("class"); out.string(lastError.errorClass.rawValue)
            out.key("message"); out.string(lastError.message)
            out.key("timed_out"); out.bool(lastError.timedOut)
            out.endObject()
        }
        if let fallback { out.key("fallback"); out.value(fallback) }
        if let finishedAt { out.key("finished_at"); out.number(finishedAt) }
        out.key("from_cache"); out.bool(fromCache)
        if let idempotencyKey { out.key("key"); out.string(idempotencyKey) }
        if let output { out.key("output"); out.value(output) }
        if let plugin { out.key("plugin"); out.string(plugin) }
        if let quality { out.key("quality"); out.number(quality) }
        if let skipReason { out.key("skip_reason"); out.string(skipReason) }
        if let staleAgeMilliseconds { out.key("stale_age_ms"); out.number(Double(staleAgeMilliseconds)) }
        if let startedAt { out.key("started_at"); out.number(startedAt) }
        out.key("status"); out.string(status.rawValue)
        out.endObject()
    }
}

extension RunState {
    /// The run's snapshot as stored.
    public var snapshotJSON: [UInt8] {
        var out = JSONWriter(capacity: 256 + source.utf8.count + steps.count * 160)
        out.beginObject()
        out.key("cancel_requested"); out.bool(cancelRequested)
        out.key("created_at"); out.number(createdAt)
        out.key("file"); out.string(file)
        out.key("id"); out.string(id)
        out.key("inputs"); out.value(.object(inputs))
        out.key("message")
        if let message { out.string(message) } else { out.null() }
        out.key("source"); out.string(source)
        out.key("status"); out.string(status.rawValue)
        out.key("steps"); out.beginObject()
        for stepID in steps.keys.sorted() {
            out.key(stepID)
            steps[stepID]!.write(into: &out)
        }
        out.endObject()
        out.key("trigger"); out.string(trigger)
        out.key("updated_at"); out.number(updatedAt)
        out.key("version"); out.number(Double(version))
        out.key("workflow"); out.string(workflow)
        out.endObject()
        return out.bytes
    }
}

extension JSONValue {
    /// Reads back JSON that ``JSONWriter`` wrote, which is always valid.
    init(written bytes: [UInt8]) {
        do {
            self = try JSONValue(json: bytes)
        } catch {
            preconditionFailure("JSONWriter wrote invalid JSON: \(error)")
        }
    }
}
