import TrellisJSON

/// A classified plugin error. The host's recovery pipeline decides what to do
/// from the ``Code``, never from the message, so pick the code with care:
///
/// - ``Code/retryable``: a transient failure; the same call may succeed later.
/// - ``Code/rateLimited``: the remote side asked to slow down; set
///   ``retryAfterMilliseconds`` when it said for how long.
/// - ``Code/permanent``: the same input will fail the same way.
/// - ``Code/config``: the plugin's configuration or the step's input is wrong.
/// - ``Code/cancelled``: the call was cancelled or ran out of time.
///
/// The message reaches a person: say what was wrong and what to do.
public struct PluginError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The ABI's numeric value for this class.
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public static let retryable = Code(rawValue: 1)
        public static let rateLimited = Code(rawValue: 2)
        public static let permanent = Code(rawValue: 3)
        public static let config = Code(rawValue: 4)
        public static let cancelled = Code(rawValue: 5)

        /// The class named as in workflows and manifests (`rate_limited`), or nil.
        public init?(name: String) {
            guard let code = [Code.retryable, .rateLimited, .permanent, .config, .cancelled].first(where: { $0.description == name })
            else { return nil }
            self = code
        }

        public var description: String {
            switch self {
            case .retryable: "retryable"
            case .rateLimited: "rate_limited"
            case .permanent: "permanent"
            case .config: "config"
            case .cancelled: "cancelled"
            default: "code(\(rawValue))"
            }
        }
    }

    public var code: Code
    public var message: String
    /// How long the caller should wait before trying again (rate limits).
    public var retryAfterMilliseconds: UInt64
    /// Why, within the class, in a word the host can act on (ABI 1.3):
    /// a provider says `context_length`, `content_policy`, `quota`,
    /// `overloaded` or `stream_broken`, so the router can fall back to a
    /// larger model or another one. nil: nothing to add.
    public var reason: String?
    /// The underlying error, if any. Not sent across the boundary.
    public var cause: (any Error)?

    public init(_ code: Code, _ message: String, retryAfterMilliseconds: UInt64 = 0, reason: String? = nil,
                cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.retryAfterMilliseconds = retryAfterMilliseconds
        self.reason = reason
        self.cause = cause
    }

    public static func retryable(_ message: String) -> PluginError { PluginError(.retryable, message) }
    public static func rateLimited(_ message: String, retryAfterMilliseconds: UInt64) -> PluginError {
        PluginError(.rateLimited, message, retryAfterMilliseconds: retryAfterMilliseconds)
    }
    public static func permanent(_ message: String) -> PluginError { PluginError(.permanent, message) }
    public static func config(_ message: String) -> PluginError { PluginError(.config, message) }
    public static func cancelled(_ message: String) -> PluginError { PluginError(.cancelled, message) }

    public var description: String { "\(code)\(reason.map { " (\($0))" } ?? ""): \(message)" }

    /// Classifies any error thrown by plugin code: a `PluginError` keeps its
    /// class; a decoding error is a config error (the input did not fit);
    /// anything else is permanent.
    static func classify(_ error: any Error, while doing: String) -> PluginError {
        if let error = error as? PluginError { return error }
        if error is DecodingError {
            return PluginError(.config, "\(doing): \(describe(decoding: error))", cause: error)
        }
        return PluginError(.permanent, "\(doing): \(error)", cause: error)
    }
}

private func describe(decoding error: any Error) -> String {
    guard let error = error as? DecodingError else { return "\(error)" }
    func path(_ context: DecodingError.Context) -> String {
        let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
        return keys.isEmpty ? "the top level" : keys.joined(separator: ".")
    }
    switch error {
    case .keyNotFound(let key, let context):
        return "missing field '\(key.stringValue)' at \(path(context))"
    case .typeMismatch(let type, let context):
        return "expected \(type) at \(path(context)): \(context.debugDescription)"
    case .valueNotFound(let type, let context):
        return "missing \(type) value at \(path(context))"
    case .dataCorrupted(let context):
        return "invalid JSON at \(path(context)): \(context.debugDescription)"
    @unknown default:
        return "\(error)"
    }
}
