import CCurl
import Foundation
import TrellisCore

/// libcurl, which the host opens at its first request (see `trellis_curl.h`):
/// a process that makes none never loads it.
enum Curl {
    /// Opens libcurl, once; throws, saying what to install, when it cannot.
    static func open() throws(HTTPError) {
        if let failure = openFailure { throw HTTPError(.config, failure) }
    }

    private static let openFailure: String? = trellis_curl_open().map { explain(String(cString: $0)) }

    /// What a failed opening of libcurl tells the admin.
    static func explain(_ detail: String) -> String {
        "libcurl could not be loaded, and HTTP and SMTP requests need it: \(detail). "
            + "Install it (on Debian: apt-get install libcurl4)"
    }
}

/// Easy handles kept between transfers: a reused handle keeps its open
/// connections, so the next request to the same host skips the handshake.
final class CurlHandlePool: @unchecked Sendable {
    // A plain lock: the section is a push or a pop, and workers that
    // collide should sleep rather than spin.
    private let lock = NSLock()
    private var free: [UnsafeMutableRawPointer] = []

    func take() throws(HTTPError) -> UnsafeMutableRawPointer {
        try Curl.open()
        lock.lock()
        let handle = free.popLast()
        lock.unlock()
        if let handle {
            trellis_curl_easy_reset(handle)   // options go; connections stay
            return handle
        }
        return trellis_curl_easy_init()
    }

    func give(_ handle: UnsafeMutableRawPointer) {
        lock.lock()
        let kept = free.count < 64
        if kept { free.append(handle) }
        lock.unlock()
        if !kept { trellis_curl_easy_cleanup(handle) }
    }

    deinit {
        free.forEach(trellis_curl_easy_cleanup)
    }
}

/// A URL's parts, as libcurl parses them (the same parser the transfer uses,
/// so the allow-list judges the host the request really goes to).
struct CurlURL {
    var scheme: String
    var host: String
    var port: Int
    var display: String { "\(scheme)://\(host):\(port)" }

    /// The URL's target, when the scheme is one of `schemes` and egress allows its host.
    static func allowed(_ url: String, schemes: Set<String>, egress: EgressPolicy) throws(HTTPError) -> CurlURL {
        let target = try parse(url, schemes: schemes)
        if let refusal = egress.refusal(host: target.host, port: target.port) { throw HTTPError(.config, refusal) }
        return target
    }

    static func parse(_ url: String, schemes: Set<String>) throws(HTTPError) -> CurlURL {
        try Curl.open()
        guard let handle = trellis_curl_url() else { throw HTTPError(.retryable, "out of memory parsing \(url)") }
        defer { trellis_curl_url_cleanup(handle) }
        guard trellis_curl_url_set(handle, CURLUPART_URL, url, 0) == CURLUE_OK else {
            throw HTTPError(.config, "'\(url)' is not a valid URL")
        }
        func part(_ which: CURLUPart, _ flags: UInt32 = 0) -> String? {
            var value: UnsafeMutablePointer<CChar>?
            guard trellis_curl_url_get(handle, which, &value, flags) == CURLUE_OK, let value else { return nil }
            defer { trellis_curl_free(value) }
            return String(cString: value)
        }
        guard let scheme = part(CURLUPART_SCHEME).map(lowercase), schemes.contains(scheme) else {
            throw HTTPError(.config, "'\(url)' is not \(schemes.sorted().joined(separator: " or ")): only those schemes are allowed")
        }
        guard let host = part(CURLUPART_HOST), !host.isEmpty,
              let port = part(CURLUPART_PORT, UInt32(CURLU_DEFAULT_PORT)).flatMap(Int.init) else {
            throw HTTPError(.config, "'\(url)' names no host")
        }
        // An IPv6 literal comes in brackets.
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        return CurlURL(scheme: scheme, host: lowercase(bare), port: port)
    }

    /// Host names and schemes are ASCII; most are already lower case.
    private static func lowercase(_ text: String) -> String {
        text.utf8.contains(where: { (65...90).contains($0) }) ? text.lowercased() : text
    }
}

/// What one transfer collects, and the options every transfer shares.
final class CurlTransfer {
    let limit: Int
    let cancellation: CancellationToken?
    var body: [UInt8] = []
    var headers: [HTTPHeader] = []
    var tooLarge = false
    /// A streaming transfer's receivers (nil: collect the body).
    struct Streaming {
        var onHead: (HTTPResponse) -> Void
        var onBody: ([UInt8]) -> Bool
    }
    var streaming: Streaming?
    /// The head a streaming caller was given.
    var head: HTTPResponse?
    /// Body bytes a streaming caller has been given.
    var streamed = 0
    /// A streaming caller asked to stop.
    var stoppedByReceiver = false
    /// The easy handle, while a streaming transfer runs (for its status).
    var handle: UnsafeMutableRawPointer?
    var upload: [UInt8] = []
    var uploaded = 0
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    init(limit: Int, cancellation: CancellationToken?) {
        self.limit = limit
        self.cancellation = cancellation
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit { errorBuffer.deallocate() }

    /// Checks what is about to be sent against the size limit and starts a
    /// transfer, with its time limit: its own (or the default), cut short by
    /// the call's deadline.
    static func begin(settings: HTTPSettings, sending bytes: Int, what: String, timeoutSeconds: Double?,
                      deadlineUnixMilliseconds: Int64?,
                      cancellation: CancellationToken?) throws(HTTPError) -> (CurlTransfer, timeoutSeconds: Double) {
        guard bytes <= settings.maxRequestBytes else {
            throw HTTPError(.config, "\(what) is \(bytes) bytes, over the limit of \(settings.maxRequestBytes)")
        }
        let timeout = try timeout(timeoutSeconds ?? settings.timeoutSeconds, deadlineUnixMilliseconds: deadlineUnixMilliseconds)
        return (CurlTransfer(limit: settings.maxResponseBytes, cancellation: cancellation), timeout)
    }

    /// The transfer's time limit: its own, cut short by the call's deadline.
    static func timeout(_ seconds: Double, deadlineUnixMilliseconds: Int64?) throws(HTTPError) -> Double {
        guard let deadline = deadlineUnixMilliseconds else { return seconds }
        let left = Double(deadline - currentUnixMilliseconds()) / 1000
        guard left > 0 else { throw HTTPError(.cancelled, "the call's deadline passed before the request started") }
        return min(seconds, left)
    }

    func configure(_ handle: UnsafeMutableRawPointer, settings: HTTPSettings, url: String, timeoutSeconds: Double,
                   protocols: String) {
        let user = Unmanaged.passUnretained(self).toOpaque()
        self.handle = handle
        trellis_curl_set_pointer(handle, CURLOPT_URL, url)
        trellis_curl_set_pointer(handle, CURLOPT_PROTOCOLS_STR, protocols)
        trellis_curl_set_long(handle, CURLOPT_NOSIGNAL, 1)
        trellis_curl_set_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        trellis_curl_set_long(handle, CURLOPT_SSL_VERIFYPEER, 1)
        trellis_curl_set_long(handle, CURLOPT_SSL_VERIFYHOST, 2)
        if let ca = settings.caFile { trellis_curl_set_pointer(handle, CURLOPT_CAINFO, ca) }
        trellis_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(settings.connectTimeoutSeconds * 1000))
        trellis_curl_set_long(handle, CURLOPT_TIMEOUT_MS, max(1, Int(timeoutSeconds * 1000)))
        trellis_curl_set_offset(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(limit))
        trellis_curl_set_pointer(handle, CURLOPT_USERAGENT, settings.userAgent)
        trellis_curl_set_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        trellis_curl_set_data_function(handle, CURLOPT_WRITEFUNCTION, curlWrite)
        trellis_curl_set_pointer(handle, CURLOPT_WRITEDATA, user)
        trellis_curl_set_data_function(handle, CURLOPT_HEADERFUNCTION, curlHeader)
        trellis_curl_set_pointer(handle, CURLOPT_HEADERDATA, user)
        trellis_curl_set_long(handle, CURLOPT_NOPROGRESS, 0)
        trellis_curl_set_progress_function(handle, curlProgress)
        trellis_curl_set_pointer(handle, CURLOPT_XFERINFODATA, user)
    }

    /// Sends `bytes` as the upload (SMTP's message).
    func configureUpload(_ handle: UnsafeMutableRawPointer, _ bytes: [UInt8]) {
        upload = bytes
        uploaded = 0
        trellis_curl_set_long(handle, CURLOPT_UPLOAD, 1)
        trellis_curl_set_offset(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(bytes.count))
        trellis_curl_set_data_function(handle, CURLOPT_READFUNCTION, curlRead)
        trellis_curl_set_pointer(handle, CURLOPT_READDATA, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Turns a failed transfer into a classified error.
    func check(_ code: CURLcode, handle: UnsafeMutableRawPointer, what: String) throws(HTTPError) {
        guard code != CURLE_OK else { return }
        let detail = errorBuffer.pointee != 0 ? String(cString: errorBuffer) : String(cString: trellis_curl_easy_strerror(code))
        switch code {
        case CURLE_ABORTED_BY_CALLBACK:
            throw HTTPError(.cancelled, "\(what) was cancelled")
        case CURLE_WRITE_ERROR where stoppedByReceiver:
            throw HTTPError(.cancelled, "\(what) was stopped by its receiver")
        case CURLE_FILESIZE_EXCEEDED:
            throw HTTPError(.permanent, "\(what): the response is larger than the limit of \(limit) bytes")
        case CURLE_WRITE_ERROR where tooLarge:
            throw HTTPError(.permanent, "\(what): the response is larger than the limit of \(limit) bytes")
        case CURLE_OPERATION_TIMEDOUT:
            throw HTTPError(.retryable, "\(what) timed out: \(detail)")
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT, CURLE_SEND_ERROR,
             CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_SSL_CONNECT_ERROR, CURLE_PARTIAL_FILE:
            throw HTTPError(.retryable, "\(what) failed: \(detail)")
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM:
            throw HTTPError(.config, "\(what): the server's TLS certificate was not accepted: \(detail). "
                                + "Give the deployment's http.ca_file for a private CA")
        case CURLE_UNSUPPORTED_PROTOCOL where detail.contains("HTTP/0.9"), CURLE_WEIRD_SERVER_REPLY:
            // A server that answered with something that is not HTTP: the
            // server's fault, and perhaps a passing one.
            throw HTTPError(.retryable, "\(what): the server's answer is not HTTP (\(detail))")
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
            throw HTTPError(.config, "\(what): \(detail)")
        case CURLE_LOGIN_DENIED:
            throw HTTPError(.config, "\(what): the server refused the credentials: \(detail)")
        case CURLE_USE_SSL_FAILED:
            throw HTTPError(.config, "\(what): the server does not offer TLS (STARTTLS), which is required: \(detail)")
        default:
            throw HTTPError(.retryable, "\(what) failed: \(detail)")
        }
    }

    static func from(_ user: UnsafeMutableRawPointer?) -> CurlTransfer {
        Unmanaged<CurlTransfer>.fromOpaque(user!).takeUnretainedValue()
    }
}

private let curlWrite: trellis_curl_data_fn = { data, size, count, user in
    let transfer = CurlTransfer.from(user)
    let length = size * count
    guard transfer.body.count + transfer.streamed + length <= transfer.limit else {
        transfer.tooLarge = true
        return 0   // a short count aborts the transfer
    }
    guard let data else { return length }
    if let streaming = transfer.streaming, let handle = transfer.handle {
        transfer.deliverHead(handle)
        transfer.streamed += length
        guard streaming.onBody(Array(UnsafeRawBufferPointer(start: data, count: length))) else {
            transfer.stoppedByReceiver = true
            return 0
        }
        return length
    }
    transfer.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
    return length
}

private let curlHeader: trellis_curl_data_fn = { data, size, count, user in
    let transfer = CurlTransfer.from(user)
    let length = size * count
    guard let data else { return length }
    let line = UnsafeRawBufferPointer(start: data, count: length)
    if line.starts(with: "HTTP/".utf8) {
        transfer.headers.removeAll()   // a new response (after a 100 Continue)
    } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
        transfer.headers.append(HTTPHeader(curlHeaderText(line[..<colon]), curlHeaderText(line[(colon + 1)...])))
    }
    return length
}

/// A header's name or value without the spaces, tabs and line end around it.
private func curlHeaderText(_ bytes: Slice<UnsafeRawBufferPointer>) -> String {
    func blank(_ byte: UInt8) -> Bool { byte == 32 || byte == 9 || byte == 13 || byte == 10 }
    var start = bytes.startIndex
    var end = bytes.endIndex
    while start < end, blank(bytes[start]) { start += 1 }
    while end > start, blank(bytes[end - 1]) { end -= 1 }
    return String(decoding: bytes[start..<end], as: UTF8.self)
}

private let curlRead: trellis_curl_data_fn = { buffer, size, count, user in
    let transfer = CurlTransfer.from(user)
    let length = min(size * count, transfer.upload.count - transfer.uploaded)
    guard length > 0, let buffer else { return 0 }
    transfer.upload.withUnsafeBytes { bytes in
        UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress! + transfer.uploaded, byteCount: length)
    }
    transfer.uploaded += length
    return length
}

private let curlProgress: trellis_curl_progress_fn = { user, _, _, _, _ in
    CurlTransfer.from(user).cancellation?.isCancelled == true ? 1 : 0
}
