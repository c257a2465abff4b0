import Foundation
import TrellisSDK

/// Posts to Slack: through an incoming webhook (the secret `webhook_url`), or
/// with a bot token (the secret `token`) through `chat.postMessage`, which
/// answers with the message's `ts` for the receipt. Slack-compatible servers
/// (Mattermost, Rocket.Chat) take the webhook form too.
struct SlackChannel: ChannelPlugin {
    struct Configuration: Decodable {
        /// `webhook` (default when the webhook_url secret is granted) or `api`.
        var mode: String?
        /// The Web API's base URL.
        var api_url: String?
        /// The channel for `api` mode when a message names none.
        var channel: String?
        var username: String?
        var icon_emoji: String?
    }

    struct Message: Decodable {
        var text: String?
        var blocks: JSON?
        var channel: String?
        var thread_ts: String?
    }

    static let id = "channel.slack"
    static let version = "1.0.0"
    static let summary = "Posts to Slack by incoming webhook or chat.postMessage."

    enum Mode { case webhook(String), api(base: String, token: String) }

    let configuration: Configuration
    let mode: Mode

    init(configuration: Configuration, host: TrellisHost) throws {
        self.configuration = configuration
        switch configuration.mode ?? ((try? host.secret("webhook_url")) != nil ? "webhook" : "api") {
        case "webhook":
            mode = .webhook(try host.secret("webhook_url"))
        case "api":
            let token = try host.secret("token")
            mode = .api(base: (configuration.api_url ?? "https://slack.com/api").trimmingCharacters(in: ["/"]), token: token)
        case let other:
            throw PluginError.config("mode must be webhook or api, not '\(other)'")
        }
    }

    func send(_ message: Message, context: CallContext) throws -> DeliveryReceipt {
        guard message.text != nil || message.blocks != nil else {
            throw PluginError.config("a Slack message needs `text` or `blocks`")
        }
        var body: [String: JSON] = [:]
        if let text = message.text { body["text"] = .string(text) }
        if let blocks = message.blocks { body["blocks"] = blocks }
        if let username = configuration.username { body["username"] = .string(username) }
        if let icon = configuration.icon_emoji { body["icon_emoji"] = .string(icon) }
        switch mode {
        case .webhook(let url):
            let response = try context.http(.json(url, body: JSON.object(body).serialized))
            // Webhooks answer errors as plain text: invalid_payload, channel_not_found…
            try response.requireSuccess { failed in failed.text.isEmpty ? nil : failed.text }
            return DeliveryReceipt(id: context.idempotencyKey, status: .delivered)
        case .api(let base, let token):
            guard let channel = message.channel ?? configuration.channel else {
                throw PluginError.config("no channel: set `channel` in the config or the message")
            }
            body["channel"] = .string(channel)
            if let thread = message.thread_ts { body["thread_ts"] = .string(thread) }
            let response = try context.http(.json("\(base)/chat.postMessage", body: JSON.object(body).serialized,
                                                  headers: [("Authorization", "Bearer \(token)")]))
            try response.requireSuccess()
            let answer = try JSONDecoder().decode(APIAnswer.self, from: Data(response.body))
            guard answer.ok, let ts = answer.ts else { throw Self.classify(answer.error ?? "unknown_error", response) }
            return DeliveryReceipt(id: ts, status: .delivered, detail: ["channel": answer.channel ?? channel])
        }
    }

    struct APIAnswer: Decodable {
        var ok: Bool
        var ts: String?
        var channel: String?
        var error: String?
    }

    /// Slack's Web API answers 200 with `{"ok": false, "error": "..."}`.
    static func classify(_ error: String, _ response: HTTPResponse) -> PluginError {
        switch error {
        case "ratelimited", "rate_limited":
            let retryAfter = response.header("Retry-After").flatMap(UInt64.init).map { $0 * 1000 } ?? 1000
            return PluginError(.rateLimited, "Slack: \(error)", retryAfterMilliseconds: retryAfter)
        case "not_authed", "invalid_auth", "account_inactive", "token_revoked", "token_expired", "missing_scope",
             "not_allowed_token_type", "no_permission":
            return PluginError(.config, "Slack refused the token: \(error)")
        case "internal_error", "fatal_error", "service_unavailable", "request_timeout":
            return PluginError(.retryable, "Slack: \(error)")
        default:
            return PluginError(.permanent, "Slack: \(error)")
        }
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(SlackChannel.self) }
