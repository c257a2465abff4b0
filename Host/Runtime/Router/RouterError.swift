import TrellisCore
import TrellisPluginHost

/// Why a routed request got no answer: what was tried, how each attempt
/// ended, and the class the recovery pipeline of a step reads.
public struct RouterError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        /// The model names no group and no provider plugin.
        public static let unknownModel = Code(rawValue: "unknown_model")
        /// Every deployment was cooling past the wait allowed.
        public static let allCooling = Code(rawValue: "all_cooling")
        /// Every deployment, and every fallback group, failed.
        public static let exhausted = Code(rawValue: "exhausted")
        /// A hard budget would be passed.
        public static let budget = Code(rawValue: "budget")
        /// The answer did not match the step's schema after the repairs allowed.
        public static let invalidAnswer = Code(rawValue: "invalid_answer")
        public static let cancelled = Code(rawValue: "cancelled")
        /// The request itself is wrong (no messages, a bad schema).
        public static let invalidRequest = Code(rawValue: "invalid_request")
        public var description: String { rawValue }
    }

    public var code: Code
    public var message: String
    public var errorClass: ErrorClass
    public var retryAfterMilliseconds: UInt64
    public var attempts: [RouteAttempt]

    public init(_ code: Code, _ message: String, errorClass: ErrorClass, retryAfterMilliseconds: UInt64 = 0,
                attempts: [RouteAttempt] = []) {
        self.code = code
        self.message = message
        self.errorClass = errorClass
        self.retryAfterMilliseconds = retryAfterMilliseconds
        self.attempts = attempts
    }

    public var description: String { message }
}

/// One deployment's attempt at a request (or why it was not tried).
public struct RouteAttempt: Sendable, Equatable {
    public var group: String
    public var deployment: String
    /// nil: it answered.
    public var errorClass: ErrorClass?
    public var reason: String?
    public var message: String
    public var latencySeconds: Double

    public var json: JSONValue {
        var object: [String: JSONValue] = ["group": .string(group), "deployment": .string(deployment),
                                           "latency_ms": .number((latencySeconds * 1000).rounded())]
        if let errorClass { object["error_class"] = .string(errorClass.rawValue) }
        if let reason { object["reason"] = .string(reason) }
        if !message.isEmpty { object["message"] = .string(message) }
        return .object(object)
    }

    public var summary: String {
        "\(deployment): " + (errorClass.map { "\($0.rawValue)\(reason.map { " (\($0))" } ?? ""): \(message)" } ?? "answered")
    }
}
