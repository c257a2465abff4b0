import TrellisJSON

/// A plugin that delivers notifications (`trellis.channel/1`).
public protocol ChannelPlugin: TrellisPlugin {
    /// What a workflow step or the notification service sends.
    associatedtype Message: Decodable

    /// Checks a configuration beyond its JSON Schema, without creating an
    /// instance. Throw a config error that says what to change.
    static func validate(configuration: Configuration) throws

    /// Delivers one message and returns its receipt.
    func send(_ message: Message, context: CallContext) throws -> DeliveryReceipt
}

extension ChannelPlugin {
    public static func validate(configuration: Configuration) throws {}
}

/// What a channel reports back for a delivered message.
public struct DeliveryReceipt: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        case queued, sent, delivered
    }

    /// The provider's message id (or the idempotency key when it has none).
    public var id: String
    public var status: Status
    /// Extra facts worth keeping (e.g. the file a message was written to).
    public var detail: [String: String]

    public init(id: String, status: Status, detail: [String: String] = [:]) {
        self.id = id
        self.status = status
        self.detail = detail
    }
}
