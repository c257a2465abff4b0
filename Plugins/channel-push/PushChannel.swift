import Foundation
import TrellisSDK

/// Publishes a push notification to an ntfy-style server (ntfy.sh or a
/// self-hosted one): the message as the body, and title, priority, tags
/// and click URL as headers; an access token (the secret `token`) when the
/// topic is protected. The receipt carries the server's message id.
struct PushChannel: ChannelPlugin {
    struct Configuration: Decodable {
        /// The server, e.g. `https://ntfy.sh`.
        var server: String
        /// The topic unless a message names its own.
        var topic: String?
    }

    struct Message: Decodable {
        var message: String
        var title: String?
        /// 1–5, or min, low, default, high, urgent.
        var priority: Priority?
        var tags: [String]?
        var click: String?
        var topic: String?
    }

    /// ntfy's priorities by number or by name.
    struct Priority: Decodable {
        var value: Int
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int.self) {
                value = number
            } else {
                let name = try container.decode(String.self)
                guard let index = ["min", "low", "default", "high", "urgent"].firstIndex(of: name) else {
                    throw PluginError.config("priority must be 1–5 or min, low, default, high, urgent, not '\(name)'")
                }
                value = index + 1
            }
            guard (1...5).contains(value) else { throw PluginError.config("priority must be between 1 and 5, not \(value)") }
        }
    }

    static let id = "channel.push"
    static let version = "1.0.0"
    static let summary = "Publishes push notifications to an ntfy-style server."

    let configuration: Configuration
    let token: String?

    init(configuration: Configuration, host: TrellisHost) throws {
        guard configuration.server.hasPrefix("http://") || configuration.server.hasPrefix("https://") else {
            throw PluginError.config("server must start with http:// or https://, not '\(configuration.server)'")
        }
        self.configuration = configuration
        token = try? host.secret("token")
    }

    func send(_ message: Message, context: CallContext) throws -> DeliveryReceipt {
        guard let topic = message.topic ?? configuration.topic, !topic.isEmpty,
              topic.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw PluginError.config("a topic of letters, digits, - and _ is needed (config `topic` or the message's)")
        }
        var headers: [(name: String, value: String)] = [("Content-Type", "text/plain; charset=utf-8")]
        // Header values must be one line; ntfy decodes RFC 2047 for non-ASCII titles.
        if let title = message.title { headers.append(("Title", Self.headerValue(title))) }
        if let priority = message.priority { headers.append(("Priority", String(priority.value))) }
        if let tags = message.tags, !tags.isEmpty { headers.append(("Tags", tags.joined(separator: ","))) }
        if let click = message.click { headers.append(("Click", click)) }
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        let url = configuration.server.trimmingCharacters(in: ["/"]) + "/" + topic
        let response = try context.http(HTTPRequest(method: "POST", url: url, headers: headers, body: Array(message.message.utf8)))
        try response.requireSuccess { failed in
            (try? JSONDecoder().decode(ServerError.self, from: Data(failed.body))).map { "\($0.error) (code \($0.code))" }
        }
        let answer = try? JSONDecoder().decode(Published.self, from: Data(response.body))
        return DeliveryReceipt(id: answer?.id ?? context.idempotencyKey, status: .sent, detail: ["topic": topic])
    }

    static func headerValue(_ text: String) -> String {
        let line = text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        guard line.utf8.contains(where: { $0 > 126 }) else { return line }
        return "=?UTF-8?B?\(Data(line.utf8).base64EncodedString())?="
    }

    struct Published: Decodable { var id: String }
    struct ServerError: Decodable {
        var code: Int
        var error: String
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(PushChannel.self) }
