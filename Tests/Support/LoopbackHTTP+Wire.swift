import TrellisCore

/// The loopback server's side of HTTP/1.1: requests read from bytes in
/// place, responses written as bytes.
extension LoopbackHTTPServer {
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
        /// A streamed body (chunked), sent part by part from a thread of
        /// its own; nil: `body`, all at once.
        public var parts: [Part]?

        /// One step of a streamed body.
        public enum Part: Sendable {
            /// Sent as one chunk.
            case text(String)
            /// Nothing is sent for this long (a server that stalls).
            case pause(Double)
            /// The connection is dropped without the last chunk (a cut stream).
            case cut
        }

        public init(status: Int = 200, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
            self.status = status
            self.headers = headers
            self.body = body
        }

        /// Server-sent events as model APIs write them, one part each: an
        /// `event:` line when named, a `data:` line, and a blank line.
        public static func serverSentEvents(_ events: [(name: String?, data: String)]) -> [Part] {
            events.map { event in .text((event.name.map { "event: \($0)\n" } ?? "") + "data: \(event.data)\n\n") }
        }

        /// A chunked response whose body is `parts`, in order.
        public static func streamed(status: Int = 200, headers: [(name: String, value: String)] = [], _ parts: [Part]) -> Response {
            var response = Response(status: status, headers: headers)
            response.parts = parts
            return response
        }

        public init(status: Int = 200, headers: [(name: String, value: String)] = [], text: String) {
            self.init(status: status, headers: headers, body: Array(text.utf8))
        }
    }

    /// One connection's bytes read and not yet taken (from `start`).
    final class Connection {
        let socket: Int32
        var buffer: [UInt8] = []
        var start = 0
        /// Where the search for the end of the headers goes on from.
        var scanned = 0

        init(socket: Int32) { self.socket = socket }

        enum Next { case request(Request), incomplete, malformed }

        /// The next whole request in the buffer.
        func next() -> Next {
            guard let headerEnd = LoopbackHTTPServer.headerEnd(in: buffer, from: max(start, scanned)) else {
                scanned = max(start, buffer.count - 3)
                return .incomplete
            }
            guard let head = LoopbackHTTPServer.parseHead(buffer[start..<headerEnd]) else { return .malformed }
            let length = head.headers.first { $0.name.equalsIgnoringASCIICase("content-length") }.flatMap { Int($0.value) } ?? 0
            let bodyStart = headerEnd + 4
            guard buffer.count >= bodyStart + length else { return .incomplete }
            let request = Request(method: head.method, target: head.target, headers: head.headers,
                                  body: Array(buffer[bodyStart..<(bodyStart + length)]))
            start = bodyStart + length
            scanned = start
            if start == buffer.count {
                buffer.removeAll(keepingCapacity: true)
                start = 0
                scanned = 0
            }
            return .request(request)
        }
    }

    /// A streamed response's head (chunked: a cut is then visible as one).
    static func head(of response: Response) -> [UInt8] {
        var text = "HTTP/1.1 \(response.status) \(reason(response.status))\r\n"
        for header in response.headers { text += "\(header.name): \(header.value)\r\n" }
        text += "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        return Array(text.utf8)
    }

    /// One chunk of a chunked body.
    static func chunk(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        return Array((String(bytes.count, radix: 16) + "\r\n").utf8) + bytes + Array("\r\n".utf8)
    }

    static func bytes(of response: Response) -> [UInt8] {
        var text = "HTTP/1.1 \(response.status) \(reason(response.status))\r\n"
        for header in response.headers { text += "\(header.name): \(header.value)\r\n" }
        text += "Content-Length: \(response.body.count)\r\n\r\n"
        var bytes = Array(text.utf8)
        bytes += response.body
        return bytes
    }

    /// Where the blank line after the headers starts, looking from `from`.
    static func headerEnd(in bytes: [UInt8], from: Int) -> Int? {
        guard bytes.count >= 4 else { return nil }
        var index = from
        while index <= bytes.count - 4 {
            if bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 { return index }
            index += 1
        }
        return nil
    }

    /// The request line and headers; nil when the request line is malformed.
    static func parseHead(_ bytes: ArraySlice<UInt8>) -> (method: String, target: String,
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

    static func reason(_ status: Int) -> String {
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

}
