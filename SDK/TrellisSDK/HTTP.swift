import CTrellisABI
import TrellisJSON

/// An HTTP request made through the host (`trellis.http/1`): the host owns
/// the connections, TLS, proxies, limits and the egress allow-list.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// 0: the host's default.
    public var timeoutMilliseconds: UInt32

    public init(method: String = "GET", url: String, headers: [(name: String, value: String)] = [], body: [UInt8] = [],
                timeoutMilliseconds: UInt32 = 0) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// A POST of a JSON body.
    public static func json(_ url: String, body: [UInt8], headers: [(name: String, value: String)] = []) -> HTTPRequest {
        HTTPRequest(method: "POST", url: url, headers: [("Content-Type", "application/json")] + headers, body: body)
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// The host's reading of the status (nil: success, 2xx only): a redirect
    /// is config (the host never follows one), 429 and 503 with a
    /// Retry-After are rate-limited, other 4xx permanent (401/403 config),
    /// other 5xx retryable.
    public var errorClass: PluginError.Code?
    public var retryAfterMilliseconds: UInt64

    public var text: String { String(decoding: body, as: UTF8.self) }

    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.last { $0.name.lowercased() == wanted }?.value
    }

    /// Throws the host's classification of a failed status, with `describe`
    /// turning the body into the message (a service's own error text).
    public func requireSuccess(_ describe: (HTTPResponse) -> String? = { _ in nil }) throws {
        guard let errorClass else { return }
        if (300..<400).contains(status) {
            throw PluginError(errorClass, "HTTP \(status): the receiver redirects to \(header("Location") ?? "another address"), "
                              + "and redirects are not followed, so nothing was delivered; point the plugin at the final URL")
        }
        let detail = describe(self) ?? (body.isEmpty ? "" : String(text.prefix(300)))
        throw PluginError(errorClass, "HTTP \(status)" + (detail.isEmpty ? "" : ": \(detail)"),
                          retryAfterMilliseconds: retryAfterMilliseconds)
    }
}

/// One message for the host's mail service (`trellis.mail/1`).
public struct MailDelivery: Sendable {
    /// `smtp://host:port` or `smtps://host:port`.
    public var url: String
    public var username: String?
    public var password: String?
    /// Require STARTTLS on `smtp://`.
    public var requireTLS: Bool
    public var from: String
    public var recipients: [String]
    /// The whole RFC 5322 message.
    public var message: [UInt8]
    public var timeoutMilliseconds: UInt32

    public init(url: String, username: String? = nil, password: String? = nil, requireTLS: Bool = false, from: String,
                recipients: [String], message: [UInt8], timeoutMilliseconds: UInt32 = 0) {
        self.url = url
        self.username = username
        self.password = password
        self.requireTLS = requireTLS
        self.from = from
        self.recipients = recipients
        self.message = message
        self.timeoutMilliseconds = timeoutMilliseconds
    }
}

extension CallContext {
    /// Performs `request` through the host, within this call's deadline and
    /// cancellation. Any status is a response (see `requireSuccess`); throws
    /// when none came: refused egress (config), connect failure or timeout
    /// (retryable), cancellation.
    public func http(_ request: HTTPRequest) throws -> HTTPResponse {
        guard let service = host.httpService, let perform = service.pointee.request else {
            throw PluginError.config("the host offers no HTTP service to this plugin")
        }
        final class Box { var response: HTTPResponse? }
        let box = Box()
        let reply = ErrorCapture()
        let status = withABIRequest(request) { abiRequest in
            reply.with { abiReply in
                perform(host.raw, raw, abiRequest, Unmanaged.passUnretained(box).toOpaque(), { user, response in
                    guard let user, let response else { return }
                    Unmanaged<Box>.fromOpaque(user).takeUnretainedValue().response = HTTPResponse(response)
                }, abiReply)
            }
        }
        guard status == TRELLIS_OK, let response = box.response else {
            throw reply.error(status, fallback: "the HTTP request failed")
        }
        return response
    }

    /// Performs `request` through the host and hands the body over as it
    /// arrives (ABI 1.3): `onHead` gets the status and headers first, then
    /// `onBody` each piece; return false from `onBody` to stop (the call
    /// then throws `cancelled`). Returns the head. A non-2xx body streams
    /// the same way, so read the service's error from it.
    @discardableResult
    public func httpStream(_ request: HTTPRequest, onHead: (HTTPResponse) -> Void = { _ in },
                           onBody: ([UInt8]) -> Bool) throws -> HTTPResponse {
        guard let service = host.httpService,
              has(\trellis_http_service_t.stream, in: service.pointee.struct_size), let stream = service.pointee.stream else {
            throw PluginError.config("the host offers no streaming HTTP to this plugin (it needs ABI 1.3)")
        }
        return try withoutActuallyEscaping(onHead) { onHead in
            try withoutActuallyEscaping(onBody) { onBody in
                final class Box {
                    let onHead: (HTTPResponse) -> Void
                    let onBody: ([UInt8]) -> Bool
                    var head: HTTPResponse?
                    init(onHead: @escaping (HTTPResponse) -> Void, onBody: @escaping ([UInt8]) -> Bool) {
                        self.onHead = onHead
                        self.onBody = onBody
                    }
                }
                let box = Box(onHead: onHead, onBody: onBody)
                let reply = ErrorCapture()
                let status = withABIRequest(request) { abiRequest in
                    reply.with { abiReply in
                        stream(host.raw, raw, abiRequest, Unmanaged.passUnretained(box).toOpaque(), { user, head in
                            guard let user, let head else { return }
                            let box = Unmanaged<Box>.fromOpaque(user).takeUnretainedValue()
                            let response = HTTPResponse(head)
                            box.head = response
                            box.onHead(response)
                        }, { user, bytes in
                            guard let user else { return 1 }
                            return Unmanaged<Box>.fromOpaque(user).takeUnretainedValue().onBody(Array(bytes.bytes)) ? 0 : 1
                        }, abiReply)
                    }
                }
                guard status == TRELLIS_OK, let head = box.head else {
                    throw reply.error(status, fallback: "the HTTP request failed")
                }
                return head
            }
        }
    }

    /// Sends a message through the host's SMTP client.
    public func sendMail(_ mail: MailDelivery) throws {
        guard let service = host.mailService, let send = service.pointee.send else {
            throw PluginError.config("the host offers no mail service to this plugin (it needs ABI 1.2)")
        }
        let reply = ErrorCapture()
        let status: trellis_status_t = withStrings(mail.recipients) { recipients in
            withABIString(mail.url) { url in
                withABIString(mail.username ?? "") { username in
                    withABIString(mail.password ?? "") { password in
                        withABIString(mail.from) { from in
                            withABIString(bytes: mail.message) { message in
                                recipients.withUnsafeBufferPointer { list in
                                    var abiMail = trellis_mail_t(
                                        struct_size: UInt32(MemoryLayout<trellis_mail_t>.size), url: url, username: username,
                                        password: password, require_tls: mail.requireTLS ? 1 : 0, from: from,
                                        recipients: list.baseAddress, recipient_count: list.count, message: message,
                                        timeout_ms: mail.timeoutMilliseconds)
                                    return reply.with { send(host.raw, raw, &abiMail, $0) }
                                }
                            }
                        }
                    }
                }
            }
        }
        guard status == TRELLIS_OK else { throw reply.error(status, fallback: "the mail to \(mail.url) was not sent") }
    }
}

extension HTTPResponse {
    init(_ raw: UnsafePointer<trellis_http_response_t>) {
        let response = raw.pointee
        status = Int(response.status)
        headers = (0..<response.header_count).map { (response.headers[$0].name.string, response.headers[$0].value.string) }
        body = Array(response.body.bytes)
        // Every host that offers HTTP (1.2 on) classifies the status.
        let classified = has(\trellis_http_response_t.retry_after_ms, in: response.struct_size)
        errorClass = classified && response.error_class != TRELLIS_OK ? PluginError.Code(rawValue: response.error_class) : nil
        retryAfterMilliseconds = classified ? response.retry_after_ms : 0
    }
}

/// Collects an error the host reports through a reply during a service call.
final class ErrorCapture {
    var code: trellis_status_t = 0
    var message: String?
    var retryAfter: UInt64 = 0
    var reason: String?

    func with<R>(_ body: (UnsafePointer<trellis_reply_t>) -> R) -> R {
        var reply = trellis_reply_t(
            struct_size: UInt32(MemoryLayout<trellis_reply_t>.size), host_data: Unmanaged.passUnretained(self).toOpaque(),
            output: nil,
            error: { data, error in
                guard let data, let error else { return }
                let capture = Unmanaged<ErrorCapture>.fromOpaque(data).takeUnretainedValue()
                capture.code = error.pointee.code
                capture.message = error.pointee.message.string
                capture.retryAfter = error.pointee.retry_after_ms
                if has(\trellis_error_t.reason, in: error.pointee.struct_size), error.pointee.reason.len > 0 {
                    capture.reason = error.pointee.reason.string
                }
            })
        return body(&reply)
    }

    func error(_ status: trellis_status_t, fallback: String) -> PluginError {
        PluginError(PluginError.Code(rawValue: status == TRELLIS_OK ? trellis_status_t(TRELLIS_ERR_RETRYABLE) : status),
                    message ?? fallback, retryAfterMilliseconds: retryAfter, reason: reason)
    }
}

/// Calls `body` with an ABI view of `request`, valid only inside it.
func withABIRequest(_ request: HTTPRequest,
                    _ body: (UnsafePointer<trellis_http_request_t>) -> trellis_status_t) -> trellis_status_t {
    withStrings(request.headers.flatMap { [$0.name, $0.value] }) { strings in
        var headers = stride(from: 0, to: strings.count, by: 2).map {
            trellis_http_header_t(name: strings[$0], value: strings[$0 + 1])
        }
        return withABIString(request.method) { method in
            withABIString(request.url) { url in
                withABIString(bytes: request.body) { requestBody in
                    headers.withUnsafeMutableBufferPointer { headerBuffer in
                        var abiRequest = trellis_http_request_t(
                            struct_size: UInt32(MemoryLayout<trellis_http_request_t>.size), method: method, url: url,
                            headers: headerBuffer.baseAddress, header_count: headerBuffer.count, body: requestBody,
                            timeout_ms: request.timeoutMilliseconds)
                        return body(&abiRequest)
                    }
                }
            }
        }
    }
}

/// Calls `body` with ABI views of `strings`, valid only inside it.
func withStrings<R>(_ strings: [String], _ body: ([trellis_str_t]) -> R) -> R {
    var storage: [UInt8] = []
    var spans: [Range<Int>] = []
    for string in strings {
        let start = storage.count
        storage.append(contentsOf: string.utf8)
        spans.append(start..<storage.count)
    }
    return storage.withUnsafeBufferPointer { buffer in
        let base = UnsafeRawPointer(buffer.baseAddress)?.assumingMemoryBound(to: CChar.self)
        return body(spans.map { span in trellis_str_t(ptr: base.map { $0 + span.lowerBound }, len: span.count) })
    }
}
