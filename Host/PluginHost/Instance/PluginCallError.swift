import CTrellisABI
import TrellisCore

/// A classified failure reported by a plugin call.
public struct PluginCallError: Error, Sendable, CustomStringConvertible {
    public var errorClass: ErrorClass
    public var message: String
    public var retryAfterMilliseconds: UInt64
    public var pluginID: String
    /// Why, within the class, in a word the host acts on (`context_length`,
    /// `content_policy`, `quota`, `stream_broken`…); nil when the plugin gave none.
    public var reason: String?

    /// The reason of an answer the host refused for its shape (a receipt or
    /// a completion that is not one): the plugin's fault, not its service's.
    public static let malformedAnswer = "malformed_answer"

    public init(_ errorClass: ErrorClass, _ message: String, retryAfterMilliseconds: UInt64 = 0, pluginID: String,
                reason: String? = nil) {
        self.errorClass = errorClass
        self.message = message
        self.retryAfterMilliseconds = retryAfterMilliseconds
        self.pluginID = pluginID
        self.reason = reason
    }

    public var description: String {
        var text = "\(pluginID) failed (\(errorClass.rawValue)\(reason.map { ", \($0)" } ?? "")): \(message)"
        if errorClass == .rateLimited, retryAfterMilliseconds > 0 { text += " (retry after \(retryAfterMilliseconds) ms)" }
        return text
    }

    /// The error a failed call reported: the class from its reply (or its
    /// status when it sent none) and its message.
    init(status: trellis_status_t, reply: ReplyState, pluginID: String) {
        let code = reply.errorCode != TRELLIS_OK ? reply.errorCode : status
        self.init(Self.errorClass(of: code), reply.errorMessage ?? "the call failed without a message",
                  retryAfterMilliseconds: reply.retryAfter, pluginID: pluginID, reason: reply.errorReason)
    }

    static func errorClass(of status: trellis_status_t) -> ErrorClass {
        switch status {
        case trellis_status_t(TRELLIS_ERR_RETRYABLE): .retryable
        case trellis_status_t(TRELLIS_ERR_RATE_LIMITED): .rateLimited
        case trellis_status_t(TRELLIS_ERR_CONFIG): .config
        case trellis_status_t(TRELLIS_ERR_CANCELLED): .cancelled
        default: .permanent
        }
    }
}

extension ErrorClass {
    var abiStatus: trellis_status_t {
        switch self {
        case .retryable: trellis_status_t(TRELLIS_ERR_RETRYABLE)
        case .rateLimited: trellis_status_t(TRELLIS_ERR_RATE_LIMITED)
        case .permanent: trellis_status_t(TRELLIS_ERR_PERMANENT)
        case .config: trellis_status_t(TRELLIS_ERR_CONFIG)
        case .cancelled: trellis_status_t(TRELLIS_ERR_CANCELLED)
        }
    }
}
