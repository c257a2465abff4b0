import Foundation
import TrellisSDK

/// Sends mail through the host's SMTP client: plain text and HTML parts,
/// attachments, Message-ID and Date headers, encoded subjects. The
/// Message-ID is derived from the idempotency key, so a retried delivery
/// carries the same id.
struct EmailChannel: ChannelPlugin {
    struct Configuration: Decodable {
        /// `smtp://host:587` (STARTTLS when offered) or `smtps://host:465`.
        var url: String
        /// The From address, e.g. `Trellis <trellis@example.com>`.
        var from: String
        var username: String?
        /// Fail unless the server upgrades `smtp://` with STARTTLS.
        var require_tls: Bool?
        var reply_to: String?
        var timeout_ms: UInt32?
    }

    struct Message: Decodable {
        struct Attachment: Decodable {
            var filename: String
            var content_type: String?
            /// The content as text, or as base64 in `content_base64`.
            var content: String?
            var content_base64: String?
        }

        var to: Recipients
        var cc: Recipients?
        var subject: String
        var text: String?
        var html: String?
        var attachments: [Attachment]?
    }

    /// One address or a list.
    struct Recipients: Decodable {
        var addresses: [String]
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let one = try? container.decode(String.self) {
                addresses = [one]
            } else {
                addresses = try container.decode([String].self)
            }
        }
    }

    static let id = "channel.email"
    static let version = "1.0.0"
    static let summary = "Sends email over SMTP or SMTPS, with HTML and attachments."

    let configuration: Configuration
    let password: String?
    let host: TrellisHost

    init(configuration: Configuration, host: TrellisHost) throws {
        try Self.validate(configuration: configuration)
        self.configuration = configuration
        self.host = host
        password = try? host.secret("password")
        if configuration.username != nil, password == nil {
            throw PluginError.config("a username is set but no `password` secret is granted to channel.email")
        }
    }

    static func validate(configuration: Configuration) throws {
        guard configuration.url.hasPrefix("smtp://") || configuration.url.hasPrefix("smtps://") else {
            throw PluginError.config("url must start with smtp:// or smtps://, not '\(configuration.url)'")
        }
        guard address(configuration.from) != nil else {
            throw PluginError.config("from must hold an address, e.g. \"Trellis <trellis@example.com>\", not '\(configuration.from)'")
        }
    }

    /// The bare address in `Name <a@b>` or `a@b`.
    static func address(_ text: String) -> String? {
        let bare = text.firstIndex(of: "<").flatMap { start in
            text.firstIndex(of: ">").map { String(text[text.index(after: start)..<$0]) }
        } ?? text
        let trimmed = bare.trimmingCharacters(in: .whitespaces)
        guard trimmed.contains("@"), !trimmed.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" }) else { return nil }
        return trimmed
    }

    func send(_ message: Message, context: CallContext) throws -> DeliveryReceipt {
        let to = message.to.addresses, cc = message.cc?.addresses ?? []
        guard !to.isEmpty else { throw PluginError.config("the message has no `to` address") }
        let recipients = try (to + cc).map { entry in
            guard let address = Self.address(entry) else { throw PluginError.config("'\(entry)' is not an email address") }
            return address
        }
        guard message.text != nil || message.html != nil else { throw PluginError.config("the message has neither `text` nor `html`") }
        let attachments = try (message.attachments ?? []).map { attachment in
            let content: [UInt8]
            if let base64 = attachment.content_base64 {
                guard let data = Data(base64Encoded: base64) else {
                    throw PluginError.config("attachment \(attachment.filename): content_base64 is not base64")
                }
                content = Array(data)
            } else {
                content = Array((attachment.content ?? "").utf8)
            }
            return MIMEMessage.Attachment(filename: attachment.filename,
                                          contentType: attachment.content_type ?? "application/octet-stream", content: content)
        }
        let domain = Self.address(configuration.from)?.split(separator: "@").last.map(String.init) ?? "trellis.local"
        let local = context.idempotencyKey.isEmpty ? UUID().uuidString.lowercased()
            : context.idempotencyKey.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "." }.reduce(into: "") { $0.append($1) }
        let messageID = "\(local)@\(domain)"
        let mime = MIMEMessage(from: configuration.from, to: to, cc: cc, subject: message.subject, text: message.text,
                               html: message.html, attachments: attachments, messageID: messageID,
                               date: Date(timeIntervalSince1970: Double(host.nowMilliseconds) / 1000),
                               replyTo: configuration.reply_to)
        try context.sendMail(MailDelivery(url: configuration.url, username: configuration.username, password: password,
                                          requireTLS: configuration.require_tls ?? false,
                                          from: Self.address(configuration.from)!, recipients: recipients,
                                          message: mime.render(), timeoutMilliseconds: configuration.timeout_ms ?? 0))
        return DeliveryReceipt(id: "<\(messageID)>", status: .sent, detail: ["recipients": String(recipients.count)])
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(EmailChannel.self) }
