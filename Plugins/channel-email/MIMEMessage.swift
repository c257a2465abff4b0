import Foundation

/// Builds an RFC 5322 / MIME message: text and HTML alternatives, optional
/// attachments, encoded-word subjects, and base64 bodies in 76-column lines.
struct MIMEMessage {
    struct Attachment {
        var filename: String
        var contentType: String
        var content: [UInt8]
    }

    var from: String
    var to: [String]
    var cc: [String]
    var subject: String
    var text: String?
    var html: String?
    var attachments: [Attachment]
    var messageID: String
    var date: Date
    var replyTo: String?

    func render() -> [UInt8] {
        var headers = [
            ("From", from), ("To", to.joined(separator: ", ")), ("Subject", Self.encodedWord(subject)),
            ("Date", Self.rfc5322Date(date)), ("Message-ID", "<\(messageID)>"), ("MIME-Version", "1.0"),
        ]
        if !cc.isEmpty { headers.append(("Cc", cc.joined(separator: ", "))) }
        if let replyTo { headers.append(("Reply-To", replyTo)) }
        var lines = headers.map { "\($0.0): \($0.1)" }
        let body = bodyPart()
        if attachments.isEmpty {
            lines += body
        } else {
            let boundary = "trellis-mixed-\(messageID.hashValue.magnitude)"
            lines.append("Content-Type: multipart/mixed; boundary=\"\(boundary)\"")
            lines.append("")
            lines.append("--\(boundary)")
            lines += body
            for attachment in attachments {
                lines.append("--\(boundary)")
                lines.append("Content-Type: \(attachment.contentType); name=\"\(Self.quoted(attachment.filename))\"")
                lines.append("Content-Disposition: attachment; filename=\"\(Self.quoted(attachment.filename))\"")
                lines.append("Content-Transfer-Encoding: base64")
                lines.append("")
                lines += Self.base64Lines(attachment.content)
            }
            lines.append("--\(boundary)--")
        }
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    /// The text/HTML part: a single part, or multipart/alternative with both.
    private func bodyPart() -> [String] {
        func part(_ type: String, _ content: String) -> [String] {
            ["Content-Type: \(type); charset=utf-8", "Content-Transfer-Encoding: base64", ""]
                + Self.base64Lines(Array(content.utf8))
        }
        switch (text, html) {
        case (let text?, let html?):
            let boundary = "trellis-alt-\(messageID.hashValue.magnitude)"
            return ["Content-Type: multipart/alternative; boundary=\"\(boundary)\"", "", "--\(boundary)"]
                + part("text/plain", text) + ["--\(boundary)"] + part("text/html", html) + ["--\(boundary)--"]
        case (nil, let html?):
            return part("text/html", html)
        default:
            return part("text/plain", text ?? "")
        }
    }

    static func base64Lines(_ bytes: [UInt8]) -> [String] {
        let encoded = Data(bytes).base64EncodedString()
        return stride(from: 0, to: max(encoded.count, 1), by: 76).map { start in
            let from = encoded.index(encoded.startIndex, offsetBy: start, limitedBy: encoded.endIndex) ?? encoded.endIndex
            let to = encoded.index(from, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            return String(encoded[from..<to])
        }
    }

    /// RFC 2047: a subject with anything but printable ASCII goes as UTF-8 base64.
    static func encodedWord(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 < 32 || $0 > 126 }) else { return text }
        return "=?UTF-8?B?\(Data(text.utf8).base64EncodedString())?="
    }

    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }

    private static func quoted(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "_").replacingOccurrences(of: "\"", with: "_")
            .replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\n", with: "")
    }
}
