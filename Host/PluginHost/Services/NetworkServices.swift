import CTrellisABI
import Foundation
import TrellisCore

/// What a plugin instance reaches the network with: the host's shared HTTP
/// and mail clients, and the plugin's own egress allow-list.
public struct PluginNetwork: Sendable {
    public var http: HTTPClient
    public var mail: MailClient
    public var egress: EgressPolicy

    public init(http: HTTPClient, mail: MailClient, egress: EgressPolicy) {
        self.http = http
        self.mail = mail
        self.egress = egress
    }
}

extension trellis_call_context_t {
    var cancellationToken: CancellationToken? {
        host_token.map { Unmanaged<CancellationToken>.fromOpaque($0).takeUnretainedValue() }
    }

    var deadline: Int64? { deadline_unix_ms > 0 ? deadline_unix_ms : nil }
}

/// Reports an error through a plugin's reply (when it gave one) and returns its class.
private func report(_ error: HTTPError, _ reply: UnsafePointer<trellis_reply_t>?) -> trellis_status_t {
    let status = error.errorClass.abiStatus
    if let reply, has(\trellis_reply_t.error, in: reply.pointee.struct_size), let send = reply.pointee.error {
        withABIString(error.message) { message in
            var abiError = trellis_error_t(struct_size: UInt32(MemoryLayout<trellis_error_t>.size), code: status,
                                           retry_after_ms: 0, message: message, reason: trellis_str_t(ptr: nil, len: 0))
            send(reply.pointee.host_data, &abiError)
        }
    }
    return status
}

nonisolated(unsafe) let httpServiceTable = table(trellis_http_service_t(
    struct_size: UInt32(MemoryLayout<trellis_http_service_t>.size),
    request: { host, context, request, user, onResponse, reply in
        guard let services = HostServices.from(host), let network = services.network, let request, let onResponse else {
            return report(HTTPError(.config, "the HTTP service was called without a request"), reply)
        }
        let response: HTTPResponse
        do throws(HTTPError) {
            response = try network.http.perform(HTTPRequest(request.pointee), egress: network.egress,
                                                cancellation: context?.pointee.cancellationToken,
                                                deadlineUnixMilliseconds: context?.pointee.deadline)
        } catch {
            services.logger.debug("HTTP request failed", metadata: ["error": "\(error.message)"])
            return report(error, reply)
        }
        respond(response, user: user, onResponse)
        return trellis_status_t(TRELLIS_OK)
    },
    stream: { host, context, request, user, onHead, onBody, reply in
        guard let services = HostServices.from(host), let network = services.network, let request, let onHead, let onBody else {
            return report(HTTPError(.config, "the HTTP service's stream was called without a request or its receivers"), reply)
        }
        do throws(HTTPError) {
            _ = try network.http.stream(
                HTTPRequest(request.pointee), egress: network.egress, cancellation: context?.pointee.cancellationToken,
                deadlineUnixMilliseconds: context?.pointee.deadline,
                onHead: { head in respond(head, user: user, onHead) },
                onBody: { bytes in withABIString(bytes: bytes) { onBody(user, $0) == 0 } })
        } catch {
            services.logger.debug("HTTP stream failed", metadata: ["error": "\(error.message)"])
            return report(error, reply)
        }
        return trellis_status_t(TRELLIS_OK)
    }))

extension HTTPRequest {
    /// A plugin's request, copied out of its ABI view.
    init(_ raw: trellis_http_request_t) {
        let headers = (0..<raw.header_count).map { index in
            HTTPHeader(raw.headers[index].name.string, raw.headers[index].value.string)
        }
        self.init(method: raw.method.len == 0 ? "GET" : raw.method.string, url: raw.url.string, headers: headers,
                  body: raw.body.byteArray, timeoutSeconds: raw.timeout_ms > 0 ? Double(raw.timeout_ms) / 1000 : nil)
    }
}

/// Hands a response to the plugin's callback; everything it points at lives
/// until the callback returns.
private func respond(_ response: HTTPResponse, user: UnsafeMutableRawPointer?,
                     _ onResponse: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<trellis_http_response_t>?) -> Void) {
    // Header names and values side by side in one buffer the views point into.
    var storage: [UInt8] = []
    var spans: [(name: Range<Int>, value: Range<Int>)] = []
    for header in response.headers {
        let nameStart = storage.count
        storage.append(contentsOf: header.name.utf8)
        let valueStart = storage.count
        storage.append(contentsOf: header.value.utf8)
        spans.append((nameStart..<valueStart, valueStart..<storage.count))
    }
    storage.withUnsafeBufferPointer { buffer in
        let base = UnsafeRawPointer(buffer.baseAddress)?.assumingMemoryBound(to: CChar.self)
        func view(_ span: Range<Int>) -> trellis_str_t { trellis_str_t(ptr: base.map { $0 + span.lowerBound }, len: span.count) }
        let headers = spans.map { trellis_http_header_t(name: view($0.name), value: view($0.value)) }
        headers.withUnsafeBufferPointer { headers in
            withABIString(bytes: response.body) { body in
                var abiResponse = trellis_http_response_t(
                    struct_size: UInt32(MemoryLayout<trellis_http_response_t>.size), status: Int32(response.status),
                    headers: headers.baseAddress, header_count: headers.count, body: body,
                    error_class: response.errorClass?.abiStatus ?? trellis_status_t(TRELLIS_OK),
                    retry_after_ms: response.retryAfterMilliseconds)
                onResponse(user, &abiResponse)
            }
        }
    }
}

nonisolated(unsafe) let mailServiceTable = table(trellis_mail_service_t(
    struct_size: UInt32(MemoryLayout<trellis_mail_service_t>.size),
    send: { host, context, mail, reply in
        guard let services = HostServices.from(host), let network = services.network, let mail else {
            return report(HTTPError(.config, "the mail service was called without a message"), reply)
        }
        let raw = mail.pointee
        let message = MailMessage(
            url: raw.url.string, username: raw.username.len > 0 ? raw.username.string : nil,
            password: raw.password.len > 0 ? raw.password.string : nil, requireTLS: raw.require_tls != 0,
            from: raw.from.string, recipients: (0..<raw.recipient_count).map { raw.recipients[$0].string },
            message: raw.message.byteArray, timeoutSeconds: raw.timeout_ms > 0 ? Double(raw.timeout_ms) / 1000 : nil)
        do throws(HTTPError) {
            try network.mail.send(message, egress: network.egress, cancellation: context?.pointee.cancellationToken,
                                  deadlineUnixMilliseconds: context?.pointee.deadline)
            return trellis_status_t(TRELLIS_OK)
        } catch {
            services.logger.debug("mail not sent", metadata: ["error": "\(error.message)"])
            return report(error, reply)
        }
    }))
