import CTrellisABI
import TrellisJSON

/// What a plugin sent back through its `trellis_reply_t` during one call.
@usableFromInline
package struct ReplyState {
    @usableFromInline var output: [UInt8]?
    @usableFromInline var errorCode: trellis_status_t = 0
    @usableFromInline var errorMessage: String?
    @usableFromInline var retryAfter: UInt64 = 0
    /// The error's reason within its class (1.3 on), or nil.
    @usableFromInline var errorReason: String?

    @inlinable init() {}
}

@usableFromInline let replyOutput: @convention(c) (UnsafeMutableRawPointer?, trellis_str_t) -> Void = { data, json in
    data?.assumingMemoryBound(to: ReplyState.self).pointee.output = json.byteArray
}

@usableFromInline let replyError: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<trellis_error_t>?) -> Void = { data, error in
    guard let state = data?.assumingMemoryBound(to: ReplyState.self), let error else { return }
    let size = error.pointee.struct_size
    state.pointee.errorCode = error.pointee.code
    if has(\trellis_error_t.retry_after_ms, in: size) { state.pointee.retryAfter = error.pointee.retry_after_ms }
    if has(\trellis_error_t.message, in: size) { state.pointee.errorMessage = error.pointee.message.string }
    if has(\trellis_error_t.reason, in: size), error.pointee.reason.len > 0 {
        state.pointee.errorReason = error.pointee.reason.string
    }
}

/// Runs one plugin call with a reply on the stack (no allocation unless the
/// plugin replies) and returns the call's status with what it replied.
@inlinable @inline(__always)
package func withReply(_ body: (UnsafePointer<trellis_reply_t>) -> trellis_status_t) -> (trellis_status_t, ReplyState) {
    var state = ReplyState()
    let status = withUnsafeMutablePointer(to: &state) { statePointer in
        var reply = trellis_reply_t(struct_size: UInt32(MemoryLayout<trellis_reply_t>.size),
                                    host_data: UnsafeMutableRawPointer(statePointer),
                                    output: replyOutput, error: replyError)
        return body(&reply)
    }
    return (status, state)
}
