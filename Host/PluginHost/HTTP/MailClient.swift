import CCurl
import Foundation
import TrellisCore

/// One message for an SMTP server.
public struct MailMessage: Sendable {
    /// `smtp://host:port` (STARTTLS when offered, or required) or `smtps://host:port`.
    public var url: String
    public var username: String?
    public var password: String?
    public var requireTLS: Bool
    /// The envelope sender and recipients (MAIL FROM, RCPT TO).
    public var from: String
    public var recipients: [String]
    /// The whole RFC 5322 message.
    public var message: [UInt8]
    public var timeoutSeconds: Double?

    public init(url: String, username: String? = nil, password: String? = nil, requireTLS: Bool = false, from: String,
                recipients: [String], message: [UInt8], timeoutSeconds: Double? = nil) {
        self.url = url
        self.username = username
        self.password = password
        self.requireTLS = requireTLS
        self.from = from
        self.recipients = recipients
        self.message = message
        self.timeoutSeconds = timeoutSeconds
    }
}

/// Sends mail over SMTP with libcurl: the same egress allow-list, TLS
/// verification, timeouts and cancellation as HTTP.
public final class MailClient: Sendable {
    public let settings: HTTPSettings
    private let handles = CurlHandlePool()

    public init(settings: HTTPSettings = HTTPSettings()) {
        self.settings = settings
    }

    public func send(_ mail: MailMessage, egress: EgressPolicy = .unrestricted, cancellation: CancellationToken? = nil,
                     deadlineUnixMilliseconds: Int64? = nil) throws(HTTPError) {
        let target = try CurlURL.allowed(mail.url, schemes: ["smtp", "smtps"], egress: egress)
        guard !mail.recipients.isEmpty else { throw HTTPError(.config, "the message has no recipients") }
        for address in [mail.from] + mail.recipients where address.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "<" || $0 == ">" }) {
            throw HTTPError(.config, "'\(address)' is not a plain address")
        }
        let (transfer, timeout) = try CurlTransfer.begin(
            settings: settings, sending: mail.message.count, what: "the message",
            timeoutSeconds: mail.timeoutSeconds, deadlineUnixMilliseconds: deadlineUnixMilliseconds, cancellation: cancellation)
        let handle = try handles.take()
        defer { handles.give(handle) }
        var recipients: UnsafeMutablePointer<curl_slist>?
        defer { trellis_curl_slist_free_all(recipients) }
        for address in mail.recipients { recipients = trellis_curl_slist_append(recipients, "<\(address)>") }
        transfer.configure(handle, settings: settings, url: mail.url, timeoutSeconds: timeout, protocols: "smtp,smtps")
        trellis_curl_set_pointer(handle, CURLOPT_MAIL_FROM, "<\(mail.from)>")
        trellis_curl_set_pointer(handle, CURLOPT_MAIL_RCPT, recipients)
        trellis_curl_set_long(handle, CURLOPT_USE_SSL, Int(mail.requireTLS ? CURLUSESSL_ALL.rawValue : CURLUSESSL_TRY.rawValue))
        if let username = mail.username, !username.isEmpty {
            trellis_curl_set_pointer(handle, CURLOPT_USERNAME, username)
            trellis_curl_set_pointer(handle, CURLOPT_PASSWORD, mail.password ?? "")
        }
        transfer.configureUpload(handle, mail.message)
        let code = trellis_curl_easy_perform(handle)
        var reply = 0
        trellis_curl_get_long(handle, CURLINFO_RESPONSE_CODE, &reply)
        // The server answered with a refusal: its reply code says whether to try again.
        if code != CURLE_OK, code != CURLE_ABORTED_BY_CALLBACK, code != CURLE_LOGIN_DENIED, reply >= 400 {
            let detail = transfer.errorBuffer.pointee != 0 ? String(cString: transfer.errorBuffer) : "reply \(reply)"
            throw HTTPError(reply >= 500 ? .permanent : .retryable, "SMTP \(target.display) refused the message: \(detail)")
        }
        try transfer.check(code, handle: handle, what: "SMTP \(target.display)")
    }
}
