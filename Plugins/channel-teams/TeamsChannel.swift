import Foundation
import TrellisSDK

/// Posts an Adaptive Card to Microsoft Teams through a Workflows (Power
/// Automate) webhook or a legacy incoming webhook. The webhook URL carries
/// its own signature, so it is the secret `webhook_url`.
struct TeamsChannel: ChannelPlugin {
    struct Configuration: Decodable {
        /// The Adaptive Card schema version the card declares.
        var card_version: String?
    }

    struct Fact: Decodable {
        var title: String
        var value: String
    }

    struct Link: Decodable {
        var title: String
        var url: String
    }

    struct Message: Decodable {
        var title: String?
        var text: String?
        /// good, warning or attention: the title's colour.
        var severity: String?
        var facts: [Fact]?
        var links: [Link]?
        /// A whole Adaptive Card, sent as given instead of one built from
        /// the fields above.
        var card: JSON?
    }

    static let id = "channel.teams"
    static let version = "1.0.0"
    static let summary = "Posts an Adaptive Card to Microsoft Teams by webhook."

    let webhook: String
    let cardVersion: String

    init(configuration: Configuration, host: TrellisHost) throws {
        webhook = try host.secret("webhook_url")
        cardVersion = configuration.card_version ?? "1.4"
    }

    func send(_ message: Message, context: CallContext) throws -> DeliveryReceipt {
        let card = try message.card ?? card(for: message)
        let envelope: JSON = .object([
            "type": "message",
            "attachments": .array([.object([
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": .null,
                "content": card,
            ])]),
        ])
        let response = try context.http(.json(webhook, body: envelope.serialized))
        // Teams answers errors in plain text ("Bad payload received by
        // generic incoming webhook.") or as a Power Automate JSON error.
        try response.requireSuccess { failed in Self.describe(failed) }
        // A legacy webhook answers 200 "1"; some tenants answer 200 with the
        // error text instead, which must not count as delivered.
        if response.status == 200, !response.body.isEmpty, response.text != "1", response.text.contains("error") {
            throw PluginError(.permanent, "Teams: \(response.text.prefix(300))")
        }
        // Workflows answer 202: handed to the flow, not yet in the channel.
        let status: DeliveryReceipt.Status = response.status == 202 ? .sent : .delivered
        return DeliveryReceipt(id: response.header("x-ms-workflow-run-id") ?? context.idempotencyKey, status: status)
    }

    func card(for message: Message) throws -> JSON {
        guard message.title != nil || message.text != nil || message.facts?.isEmpty == false else {
            throw PluginError.config("a Teams message needs `title`, `text`, `facts` or a whole `card`")
        }
        var body: [JSON] = []
        if let title = message.title {
            var block: [String: JSON] = ["type": "TextBlock", "text": .string(title), "weight": "Bolder",
                                         "size": "Medium", "wrap": true]
            if let severity = message.severity {
                guard ["good", "warning", "attention"].contains(severity) else {
                    throw PluginError.config("severity must be good, warning or attention, not '\(severity)'")
                }
                block["color"] = .string(severity.prefix(1).uppercased() + severity.dropFirst())
            }
            body.append(.object(block))
        }
        if let text = message.text {
            body.append(.object(["type": "TextBlock", "text": .string(text), "wrap": true]))
        }
        if let facts = message.facts, !facts.isEmpty {
            body.append(.object(["type": "FactSet", "facts": .array(facts.map {
                .object(["title": .string($0.title), "value": .string($0.value)])
            })]))
        }
        var card: [String: JSON] = [
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard", "version": .string(cardVersion), "body": .array(body),
        ]
        if let links = message.links, !links.isEmpty {
            card["actions"] = .array(links.map { .object(["type": "Action.OpenUrl", "title": .string($0.title), "url": .string($0.url)]) })
        }
        return .object(card)
    }

    /// The service's own words: Power Automate's `{"error":{"code","message"}}`
    /// or a legacy webhook's plain text.
    static func describe(_ response: HTTPResponse) -> String? {
        if case .object(let root)? = try? JSONDecoder().decode(JSON.self, from: Data(response.body)),
           case .object(let error)? = root["error"] {
            return [error["code"]?.string, error["message"]?.string].compactMap { $0 }.joined(separator: ": ")
        }
        return response.body.isEmpty ? nil : String(response.text.prefix(300))
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(TeamsChannel.self) }
