import Foundation
import TrellisCore
import Synchronization

/// A small HTTP/1.1 server on 127.0.0.1 for `trellis bench notify` and the
/// tests of HTTP plugins: one thread per connection, keep-alive, bodies by
/// Content-Length. The handler sees each request and returns the response;
/// it runs on the connection's thread, so it may sleep to play a slow server.
public final class LoopbackHTTPServer: @unchecked Sendable {
    public struct Request: Sendable {
        public var method: String
        public var target: String
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        public func header(_ name: String) -> String? {
            headers.first { $0.name.equalsIgnoringASCIICase(name) }?.value
        }

        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    public struct Response: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        public init(status: Int = 200, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
            self.status = status
            self.headers = headers
            self.body = body
        }

        public init(status: Int = 200, headers: [(name: String, value: String)] = [], text: String) {
            self.init(status: status, headers: headers, body: Array(text.utf8))
        }
    }

    public let port: Int
    public var url: String { "http://127.0.0.1:\(port)" }
    private let listener: Int32
    private let handler: @Sendable (Request) -> Response
    private let clients = Mutex<Set<Int32>>([])
    private let stopped = Atomic<Bool>(false)
    /// Connections accepted so far (to see connection reuse).
    public var connectionsAccepted: Int { accepted.load(ordering: .relaxed) }
    private let accepted = Atomic<Int>(0)

    public init(handler: @escaping @Sendable (Request) -> Response) throws {
        self.handler = handler
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw ServerError("socket() failed: errno \(errno)") }
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 128) == 0 else {
            close(listener)
            throw ServerError("cannot listen on 127.0.0.1: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        self.listener = listener
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "loopback-http-accept"
        thread.start()
    }

    deinit { stop() }

    /// Closes the listener and every open connection.
    public func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for client in clients.withLock({ $0 }) { shutdown(client, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop() {
        while !stopped.load(ordering: .acquiring) {
            let client = accept(listener, nil, nil)
            guard client >= 0 else {
                if errno == EINTR { continue }
                return
            }
            accepted.add(1, ordering: .relaxed)
            var yes: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
            clients.withLock { _ = $0.insert(client) }
            let thread = Thread { [self] in
                serve(client)
                clients.withLock { _ = $0.remove(client) }
                close(client)
            }
            thread.name = "loopback-http-connection"
            thread.start()
        }
    }

    private func serve(_ client: Int32) {
        // Bytes read and not yet taken start at `start`; a request is parsed
        // from bytes in place (the receiver's own cost counts in the bench).
        var buffer: [UInt8] = []
        var start = 0
        var scanned = 0
        var chunk = [UInt8](repeating: 0, count: 65536)
        func fill() -> Bool {
            let count = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return false }
            if start == buffer.count {
                buffer.removeAll(keepingCapacity: true)
                start = 0
                scanned = 0
            }
            buffer.append(contentsOf: chunk[0..<count])
            return true
        }
        while true {
            var headerEnd: Int?
            while headerEnd == nil {
                headerEnd = Self.headerEnd(in: buffer, from: max(start, scanned))
                scanned = max(start, buffer.count - 3)
                if headerEnd == nil, !fill() { return }
            }
            guard let head = Self.parseHead(buffer[start..<headerEnd!]) else { return }
            let length = head.headers.first { $0.name.equalsIgnoringASCIICase("content-length") }.flatMap { Int($0.value) } ?? 0
            let bodyStart = headerEnd! + 4
            while buffer.count < bodyStart + length {
                if !fill() { return }
            }
            let request = Request(method: head.method, target: head.target, headers: head.headers,
                                  body: Array(buffer[bodyStart..<(bodyStart + length)]))
            start = bodyStart + length
            scanned = start
            let response = handler(request)
            var text = "HTTP/1.1 \(response.status) \(Self.reason(response.status))\r\n"
            for header in response.headers { text += "\(header.name): \(header.value)\r\n" }
            text += "Content-Length: \(response.body.count)\r\n\r\n"
            var bytes = Array(text.utf8)
            bytes += response.body
            var sent = 0
            while sent < bytes.count {
                let count = bytes[sent...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard count > 0 else { return }
                sent += count
            }
            if let connection = request.header("Connection"), connection.equalsIgnoringASCIICase("close") { return }
        }
    }

    /// Where the blank line after the headers starts, looking from `from`.
    private static func headerEnd(in bytes: [UInt8], from: Int) -> Int? {
        guard bytes.count >= 4 else { return nil }
        var index = from
        while index <= bytes.count - 4 {
            if bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 { return index }
            index += 1
        }
        return nil
    }

    /// The request line and headers; nil when the request line is malformed.
    private static func parseHead(_ bytes: ArraySlice<UInt8>) -> (method: String, target: String,
                                                                 headers: [(name: String, value: String)])? {
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = bytes.startIndex
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == 13, index + 1 < bytes.endIndex, bytes[index + 1] == 10 {
                lines.append(bytes[lineStart..<index])
                index += 2
                lineStart = index
            } else {
                index += 1
            }
        }
        lines.append(bytes[lineStart..<bytes.endIndex])
        let requestLine = lines[0].split(separator: 32)
        guard requestLine.count >= 2 else { return nil }
        let headers = lines.dropFirst().compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: 58) else { return nil }
            var value = line[(colon + 1)...]
            while let first = value.first, first == 32 || first == 9 { value = value.dropFirst() }
            while let last = value.last, last == 32 || last == 9 { value = value.dropLast() }
            return (String(decoding: line[..<colon], as: UTF8.self), String(decoding: value, as: UTF8.self))
        }
        return (String(decoding: requestLine[0], as: UTF8.self), String(decoding: requestLine[1], as: UTF8.self), headers)
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }

    struct ServerError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
