import Foundation
import TrellisSDK

/// Sends an SMS through a Twilio-style Messages API: a form-encoded POST to
/// `<api_url>/2010-04-01/Accounts/<sid>/Messages.json` with basic auth
/// (account SID and the secret `auth_token`). It counts the segments the
/// text needs (GSM-7: 160, or 153 each when split; UCS-2: 70, or 67) and
/// refuses a text longer than `max_segments`.
struct SMSChannel: ChannelPlugin {
    struct Configuration: Decodable {
        var account_sid: String
        /// The sender number (E.164) or messaging service SID (`MG…`).
        var from: String
        var api_url: String?
        var max_segments: Int?
    }

    struct Message: Decodable {
        var to: String
        var body: String
    }

    static let id = "channel.sms"
    static let version = "1.0.0"
    static let summary = "Sends SMS through a Twilio-style Messages API."

    let configuration: Configuration
    let authorization: String

    init(configuration: Configuration, host: TrellisHost) throws {
        self.configuration = configuration
        let token = try host.secret("auth_token")
        authorization = "Basic " + Data("\(configuration.account_sid):\(token)".utf8).base64EncodedString()
    }

    func send(_ message: Message, context: CallContext) throws -> DeliveryReceipt {
        guard message.to.hasPrefix("+"), message.to.dropFirst().allSatisfy(\.isNumber), message.to.count >= 8 else {
            throw PluginError.config("'\(message.to)' is not an E.164 number (like +15551234567)")
        }
        let segments = Segments(message.body)
        let limit = configuration.max_segments ?? 10
        guard segments.count <= limit else {
            throw PluginError.config("the text needs \(segments.count) \(segments.encoding) segments, over the limit of \(limit)")
        }
        let sender = configuration.from.hasPrefix("MG") ? "MessagingServiceSid" : "From"
        let form = [("To", message.to), (sender, configuration.from), ("Body", message.body)]
            .map { "\(Self.formEncode($0.0))=\(Self.formEncode($0.1))" }.joined(separator: "&")
        let base = (configuration.api_url ?? "https://api.twilio.com").trimmingCharacters(in: ["/"])
        let response = try context.http(HTTPRequest(
            method: "POST", url: "\(base)/2010-04-01/Accounts/\(configuration.account_sid)/Messages.json",
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Authorization", authorization)],
            body: Array(form.utf8)))
        try response.requireSuccess { failed in
            (try? JSONDecoder().decode(APIError.self, from: Data(failed.body))).map { "\($0.message) (code \($0.code))" }
        }
        let answer = try JSONDecoder().decode(Created.self, from: Data(response.body))
        return DeliveryReceipt(id: answer.sid, status: .queued,
                               detail: ["segments": String(segments.count), "encoding": segments.encoding,
                                        "provider_status": answer.status ?? ""])
    }

    /// application/x-www-form-urlencoded: unreserved characters as they are, the rest as %XX.
    static func formEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(byte)))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    struct Created: Decodable {
        var sid: String
        var status: String?
    }

    struct APIError: Decodable {
        var code: Int
        var message: String
    }
}

/// How many SMS segments a text takes, and in which encoding.
struct Segments {
    let count: Int
    let encoding: String

    /// The GSM 03.38 basic set; the extension set's characters count twice.
    static let basic = Set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
    static let extended = Set("^{}\\[~]|€\u{000C}")

    init(_ text: String) {
        if text.allSatisfy({ Self.basic.contains($0) || Self.extended.contains($0) }) {
            let units = text.reduce(0) { $0 + (Self.extended.contains($1) ? 2 : 1) }
            encoding = "GSM-7"
            count = units <= 160 ? 1 : (units + 152) / 153
        } else {
            let units = text.utf16.count
            encoding = "UCS-2"
            count = units <= 70 ? 1 : (units + 66) / 67
        }
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(SMSChannel.self) }
