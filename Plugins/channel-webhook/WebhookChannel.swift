import Foundation
import TrellisSDK

/// Delivers a JSON event by HTTP POST, signed per Standard Webhooks
/// (`webhook-id`, `webhook-timestamp`, `webhook-signature`). The webhook id is
/// the call's idempotency key, so a retried or resumed delivery carries the
/// same id and the receiver can drop the repeat.
struct WebhookChannel: ChannelPlugin {
    struct Configuration: Decodable {
        /// Where events go unless a message names its own `url`.
        var url: String?
        /// Extra headers on every request.
        var headers: [String: String]?
        var timeout_ms: UInt32?
    }

    struct Message: Decodable {
        /// The event type, e.g. `run.failed`.
        var type: String?
        var data: JSON?
        var url: String?
        var headers: [String: String]?
    }

    static let id = "channel.webhook"
    static let version = "1.0.0"
    static let summary = "POSTs JSON events signed per Standard Webhooks."

    let configuration: Configuration
    let signer: WebhookSigner?
    let host: TrellisHost

    init(configuration: Configuration, host: TrellisHost) throws {
        try Self.validate(configuration: configuration)
        self.configuration = configuration
        self.host = host
        // The current secret, and during a rotation the previous one too.
        let secrets = ["signing_secret", "previous_signing_secret"].compactMap { try? host.secret($0) }
        signer = secrets.isEmpty ? nil : try WebhookSigner(secrets: secrets)
        if signer == nil { host.log(.warning, "no signing_secret is granted: webhooks go out unsigned") }
    }

    static func validate(configuration: Configuration) throws {
        if let url = configuration.url, !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
            throw PluginError.config("url must start with http:// or https://, not '\(url)'")
        }
    }

    func send(_ message: Message, context: CallContext) throws -> DeliveryReceipt {
        guard let url = message.url ?? configuration.url else {
            throw PluginError.config("no url: set `url` in the plugin's config or in the message")
        }
        let id = context.idempotencyKey.isEmpty ? "msg_" + UUID().uuidString.lowercased() : context.idempotencyKey
        let timestamp = host.nowMilliseconds / 1000
        let body = JSON.object([
            "type": .string(message.type ?? "trellis.notification"),
            "timestamp": .string(Date(timeIntervalSince1970: Double(timestamp)).formatted(.iso8601)),
            "data": message.data ?? .object([:]),
        ]).serialized
        var headers: [(name: String, value: String)] = [
            ("Content-Type", "application/json"), ("webhook-id", id), ("webhook-timestamp", String(timestamp)),
        ]
        if let signer { headers.append(("webhook-signature", try signer.signature(id: id, timestamp: timestamp, body: body))) }
        for (name, value) in (configuration.headers ?? [:]).merging(message.headers ?? [:], uniquingKeysWith: { $1 }) {
            headers.append((name, value))
        }
        let response = try context.http(HTTPRequest(method: "POST", url: url, headers: headers, body: body,
                                                    timeoutMilliseconds: configuration.timeout_ms ?? 0))
        try response.requireSuccess()
        return DeliveryReceipt(id: id, status: .delivered, detail: ["http_status": String(response.status)])
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(WebhookChannel.self) }
