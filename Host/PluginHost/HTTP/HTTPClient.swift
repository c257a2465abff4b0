import CCurl
import Foundation
import Synchronization
import TrellisCore

/// Limits and defaults of the host's HTTP client (the deployment's `http:`).
public struct HTTPSettings: Sendable, Hashable {
    public var connectTimeoutSeconds: Double = 10
    public var timeoutSeconds: Double = 30
    public var maxRequestBytes = 10 << 20
    public var maxResponseBytes = 10 << 20
    /// A CA bundle to verify servers with instead of the system's.
    public var caFile: String?
    public var userAgent = "trellis/\(TrellisVersion.current)"

    public init() {}
}

public struct HTTPHeader: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [HTTPHeader]
    public var body: [UInt8]
    /// nil: the client's default.
    public var timeoutSeconds: Double?

    public init(method: String = "GET", url: String, headers: [HTTPHeader] = [], body: [UInt8] = [],
                timeoutSeconds: Double? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutSeconds = timeoutSeconds
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [HTTPHeader]
    public var body: [UInt8]
    /// The status as the recovery pipeline reads it (nil: success).
    public var errorClass: ErrorClass?
    public var retryAfterMilliseconds: UInt64

    public func header(_ name: String) -> String? {
        headers.last { $0.name.equalsIgnoringASCIICase(name) }?.value
    }
}

/// Why a request produced no response, classified for the recovery pipeline.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    public var errorClass: ErrorClass
    public var message: String
    public var description: String { message }

    public init(_ errorClass: ErrorClass, _ message: String) {
        self.errorClass = errorClass
        self.message = message
    }
}

/// The host's HTTP client, on libcurl: it reuses connections (easy handles
/// are pooled, and each keeps its connection cache), verifies TLS, takes
/// proxies from the environment (`https_proxy`, `http_proxy`, `no_proxy`),
/// bounds request and response sizes, never follows redirects (a redirect
/// could leave the egress allow-list), and stops when the call is cancelled
/// or its deadline passes.
public final class HTTPClient: Sendable {
    public let settings: HTTPSettings
    let handles = CurlHandlePool()

    public init(settings: HTTPSettings = HTTPSettings()) {
        self.settings = settings
    }

    /// Performs `request`; any status is a response. Throws when no response
    /// came: the host is not allowed, the URL is bad, the connection failed
    /// or timed out, the call was cancelled, or the response was too large.
    public func perform(_ request: HTTPRequest, egress: EgressPolicy = .unrestricted,
                        cancellation: CancellationToken? = nil,
                        deadlineUnixMilliseconds: Int64? = nil) throws(HTTPError) -> HTTPResponse {
        try transfer(request, egress: egress, cancellation: cancellation, deadlineUnixMilliseconds: deadlineUnixMilliseconds,
                     streaming: nil)
    }

    /// Performs `request` and hands the response over as it arrives:
    /// `onHead` once with the status and headers (an empty body), then
    /// `onBody` with each piece of the body; `onBody` returns false to stop
    /// (the call then throws `cancelled`). The size limit bounds the whole
    /// body; the time limit bounds the whole exchange. Returns the head.
    public func stream(_ request: HTTPRequest, egress: EgressPolicy = .unrestricted, cancellation: CancellationToken? = nil,
                       deadlineUnixMilliseconds: Int64? = nil, onHead: @escaping (HTTPResponse) -> Void,
                       onBody: @escaping ([UInt8]) -> Bool) throws(HTTPError) -> HTTPResponse {
        try transfer(request, egress: egress, cancellation: cancellation, deadlineUnixMilliseconds: deadlineUnixMilliseconds,
                     streaming: CurlTransfer.Streaming(onHead: onHead, onBody: onBody))
    }

    private func transfer(_ request: HTTPRequest, egress: EgressPolicy, cancellation: CancellationToken?,
                          deadlineUnixMilliseconds: Int64?, streaming: CurlTransfer.Streaming?) throws(HTTPError) -> HTTPResponse {
        let target = try CurlURL.allowed(request.url, schemes: ["http", "https"], egress: egress)
        let (transfer, timeout) = try CurlTransfer.begin(
            settings: settings, sending: request.body.count, what: "the request body",
            timeoutSeconds: request.timeoutSeconds, deadlineUnixMilliseconds: deadlineUnixMilliseconds, cancellation: cancellation)
        transfer.streaming = streaming
        let handle = try handles.take()
        defer { handles.give(handle) }
        var headers: UnsafeMutablePointer<curl_slist>?
        defer { trellis_curl_slist_free_all(headers) }
        // No "Expect: 100-continue" round trip before a body.
        for line in request.headers.map({ "\($0.name): \($0.value)" }) + ["Expect:"] {
            headers = trellis_curl_slist_append(headers, line)
        }
        let code: CURLcode = request.body.withUnsafeBytes { body in
            transfer.configure(handle, settings: settings, url: request.url, timeoutSeconds: timeout,
                               protocols: "http,https")
            trellis_curl_set_pointer(handle, CURLOPT_HTTPHEADER, headers)
            switch request.method.uppercased() {
            case "GET":
                trellis_curl_set_long(handle, CURLOPT_HTTPGET, 1)
            case "HEAD":
                trellis_curl_set_long(handle, CURLOPT_NOBODY, 1)
            default:
                trellis_curl_set_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
                trellis_curl_set_pointer(handle, CURLOPT_POSTFIELDS, body.baseAddress ?? UnsafeRawPointer(emptyBody))
                if request.method.uppercased() != "POST" {
                    trellis_curl_set_pointer(handle, CURLOPT_CUSTOMREQUEST, request.method.uppercased())
                }
            }
            return trellis_curl_easy_perform(handle)
        }
        if streaming != nil, transfer.head == nil, code == CURLE_OK {
            transfer.deliverHead(handle)   // a response with no body
        }
        try transfer.check(code, handle: handle, what: "\(request.method.uppercased()) \(target.display)")
        return transfer.head ?? transfer.response(handle)
    }
}

extension CurlTransfer {
    /// The response as far as it has come: status and headers from `handle`,
    /// the body collected so far, classified for the recovery pipeline.
    func response(_ handle: UnsafeMutableRawPointer) -> HTTPResponse {
        var status = 0
        trellis_curl_get_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var response = HTTPResponse(status: status, headers: headers, body: body, errorClass: nil,
                                    retryAfterMilliseconds: 0)
        let retryAfter = response.header("Retry-After").flatMap { HTTPClassification.retryAfter($0) }
        response.errorClass = HTTPClassification.errorClass(status: status, retryAfterMilliseconds: retryAfter)
        response.retryAfterMilliseconds = response.errorClass == .rateLimited ? (retryAfter ?? 1000) : 0
        return response
    }

    /// Hands the head to a streaming caller, once.
    func deliverHead(_ handle: UnsafeMutableRawPointer) {
        guard let streaming, head == nil else { return }
        let head = response(handle)
        self.head = head
        streaming.onHead(head)
    }
}

/// What POSTFIELDS points at for an empty body (never read: its size is 0).
nonisolated(unsafe) private let emptyBody = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
