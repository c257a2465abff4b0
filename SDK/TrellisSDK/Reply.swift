import CTrellisABI
import TrellisJSON

/// Writes a call's result through the host's reply callbacks.
struct Reply {
    let raw: UnsafePointer<trellis_reply_t>?

    func output(_ bytes: [UInt8]) {
        guard let raw, has(\trellis_reply_t.output, in: raw.pointee.struct_size),
              let output = raw.pointee.output else { return }
        withABIString(bytes: bytes) { output(raw.pointee.host_data, $0) }
    }

    @discardableResult
    func fail(_ error: PluginError) -> trellis_status_t {
        if let raw, has(\trellis_reply_t.error, in: raw.pointee.struct_size), let report = raw.pointee.error {
            withABIString(error.message) { message in
                withABIString(error.reason ?? "") { reason in
                    var abiError = trellis_error_t(
                        struct_size: UInt32(MemoryLayout<trellis_error_t>.size),
                        code: error.code.rawValue,
                        retry_after_ms: error.retryAfterMilliseconds,
                        message: message,
                        reason: reason)
                    report(raw.pointee.host_data, &abiError)
                }
            }
        }
        return error.code.rawValue
    }

    /// Runs `body`; sends its output (if any) or its classified error.
    @inline(__always)
    func perform(_ doing: @autoclosure () -> String, _ body: () throws -> [UInt8]?) -> trellis_status_t {
        do {
            if let bytes = try body() { output(bytes) }
            return trellis_status_t(TRELLIS_OK)
        } catch {
            return fail(PluginError.classify(error, while: doing()))
        }
    }
}
