import CTrellisABI
import TrellisJSON

/// What the host tells a plugin about one call. Valid only during the call.
public struct CallContext {
    /// Stable across retries of the same step and across host restarts: pass
    /// it on to receivers so they can drop a repeated delivery.
    public let idempotencyKey: String
    public let runID: String
    public let stepID: String
    /// 1 for the first attempt.
    public let attempt: Int
    /// The deadline as Unix time in milliseconds, or nil.
    public let deadlineUnixMilliseconds: Int64?
    public let host: TrellisHost

    let raw: UnsafePointer<trellis_call_context_t>?

    init(raw: UnsafePointer<trellis_call_context_t>?, host: TrellisHost) {
        self.raw = raw
        self.host = host
        guard let raw, raw.pointee.struct_size > 0 else {
            idempotencyKey = ""; runID = ""; stepID = ""; attempt = 1; deadlineUnixMilliseconds = nil
            return
        }
        let context = raw.pointee
        idempotencyKey = context.idempotency_key.string
        runID = context.run_id.string
        stepID = context.step_id.string
        attempt = Int(context.attempt)
        deadlineUnixMilliseconds = context.deadline_unix_ms > 0 ? context.deadline_unix_ms : nil
    }

    /// True when the call was cancelled or its deadline passed.
    public var isCancelled: Bool {
        guard let raw, let service = host.cancelService, let check = service.pointee.is_cancelled else {
            return false
        }
        return check(host.raw, raw) != 0
    }

    /// Milliseconds left before the deadline; nil when there is none.
    public var remainingMilliseconds: Int64? {
        guard let raw, let service = host.cancelService, let remaining = service.pointee.remaining_ms else {
            return nil
        }
        let value = remaining(host.raw, raw)
        return value == Int64.max ? nil : value
    }

    /// Throws a cancelled error when the call should stop.
    public func checkCancellation() throws {
        if isCancelled { throw PluginError.cancelled("the call was cancelled or its deadline passed") }
    }
}
