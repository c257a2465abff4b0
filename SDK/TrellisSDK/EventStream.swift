/// Reads a streamed response body as it arrives, in the two shapes model
/// APIs use: server-sent events (`text/event-stream`: `event:` and `data:`
/// lines, a blank line ends an event) and newline-delimited JSON (one value
/// per line). Feed it the pieces `CallContext.httpStream` hands over; it
/// keeps the unfinished line between pieces.
public struct EventStreamDecoder {
    public enum Format { case serverSentEvents, lines }

    /// One server-sent event, or one line of an NDJSON stream (in `data`).
    public struct Event: Sendable, Equatable {
        /// The `event:` field; empty when the event has none (and for lines).
        public var name: String
        public var data: String
    }

    public let format: Format
    /// The longest line it keeps before giving up on the stream.
    public let maxLineBytes: Int
    private var pending: [UInt8] = []
    private var skipLineFeed = false
    private var name = ""
    private var data: [String] = []

    public init(_ format: Format, maxLineBytes: Int = 4 << 20) {
        self.format = format
        self.maxLineBytes = maxLineBytes
    }

    /// The events that `bytes` completes. Throws a retryable `stream_broken`
    /// error when a line passes `maxLineBytes`.
    public mutating func feed(_ bytes: [UInt8]) throws -> [Event] {
        var events: [Event] = []
        for byte in bytes {
            if skipLineFeed {
                skipLineFeed = false
                if byte == 0x0A { continue }
            }
            if byte == 0x0A || byte == 0x0D {
                skipLineFeed = byte == 0x0D
                if let event = take(line: pending) { events.append(event) }
                pending.removeAll(keepingCapacity: true)
                continue
            }
            pending.append(byte)
            if pending.count > maxLineBytes {
                throw PluginError(.retryable, "a line of the streamed answer is longer than \(maxLineBytes) bytes",
                                  reason: "stream_broken")
            }
        }
        return events
    }

    /// What is left when the body ends: a last line without its line end,
    /// or an event without its blank line (servers that close early).
    public mutating func finish() -> [Event] {
        var events: [Event] = []
        if !pending.isEmpty, let event = take(line: pending) { events.append(event) }
        pending.removeAll()
        if format == .serverSentEvents, !data.isEmpty {
            events.append(Event(name: name, data: data.joined(separator: "\n")))
            name = ""
            data = []
        }
        return events
    }

    private mutating func take(line: [UInt8]) -> Event? {
        switch format {
        case .lines:
            let text = String(decoding: line, as: UTF8.self)
            return text.allSatisfy(\.isWhitespace) ? nil : Event(name: "", data: text)
        case .serverSentEvents:
            if line.isEmpty {
                defer {
                    name = ""
                    data = []
                }
                return data.isEmpty ? nil : Event(name: name, data: data.joined(separator: "\n"))
            }
            if line.first == UInt8(ascii: ":") { return nil }   // a comment (keep-alive)
            let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.endIndex
            let field = String(decoding: line[..<colon], as: UTF8.self)
            var valueStart = colon < line.endIndex ? colon + 1 : colon
            if valueStart < line.endIndex, line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
            let value = String(decoding: line[valueStart...], as: UTF8.self)
            switch field {
            case "event": name = value
            case "data": data.append(value)
            default: break   // id, retry: not needed for one answer
            }
            return nil
        }
    }
}
