/// The SDK's own JSON tree, between the bytes the host passes and a
/// plugin's `Codable` types. Numbers keep their text, so an `Int64` or
/// `UInt64` field reads and writes exactly; objects are written with sorted
/// keys, so the same value gives the same bytes.
indirect enum JSONNode: Sendable {
    case null
    case bool(Bool)
    /// The number as written (a valid JSON number).
    case number(String)
    case string(String)
    case array([JSONNode])
    case object([String: JSONNode])

    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

// MARK: - JSON ⇄ node

extension JSONNode {
    init(_ value: JSON) {
        switch value {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .number(let number): self = .number(JSONNode.text(of: number) ?? "null")
        case .string(let text): self = .string(text)
        case .array(let values): self = .array(values.map(JSONNode.init))
        case .object(let object): self = .object(object.mapValues(JSONNode.init))
        }
    }

    var json: JSON {
        switch self {
        case .null: .null
        case .bool(let flag): .bool(flag)
        case .number(let text): .number(Double(text) ?? 0)
        case .string(let text): .string(text)
        case .array(let values): .array(values.map(\.json))
        case .object(let object): .object(object.mapValues(\.json))
        }
    }

    /// A double as JSON text: whole numbers without a fraction; nil when
    /// not finite (JSON has no such numbers).
    static func text(of number: Double) -> String? {
        guard number.isFinite else { return nil }
        if number.rounded() == number, abs(number) < 1e15 { return String(Int64(number)) }
        return "\(number)"
    }
}

// MARK: - Writing

extension JSONNode {
    func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let flag): out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let text): out.append(contentsOf: text.utf8)
        case .string(let text): Self.write(string: text, to: &out)
        case .array(let values):
            out.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                value.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (index, key) in object.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.write(string: key, to: &out)
                out.append(UInt8(ascii: ":"))
                object[key].unsafelyUnwrapped.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A JSON string: quotes, backslashes and control characters escaped,
    /// everything else (slashes, non-ASCII) as it is.
    static func write(string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): out.append(contentsOf: [92, 92])
            case 10: out.append(contentsOf: [92, 110])
            case 13: out.append(contentsOf: [92, 114])
            case 9: out.append(contentsOf: [92, 116])
            case 0..<32:
                let hex: StaticString = "0123456789abcdef"
                out.append(contentsOf: [92, 117, 48, 48, hex.utf8Start[Int(byte >> 4)], hex.utf8Start[Int(byte & 15)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

// MARK: - Parsing

/// Where and why the bytes are not JSON.
struct JSONSyntaxError: Error, CustomStringConvertible {
    var offset: Int
    var reason: String
    var description: String { "\(reason) at byte \(offset)" }
}

/// A strict JSON reader (RFC 8259) over the bytes of one call.
struct JSONNodeReader {
    private let bytes: UnsafeRawBufferPointer
    private var at = 0
    private var depth = 0

    static func read(_ bytes: UnsafeRawBufferPointer) throws(JSONSyntaxError) -> JSONNode {
        var reader = JSONNodeReader(bytes: bytes)
        reader.skipWhitespace()
        let node = try reader.value()
        reader.skipWhitespace()
        guard reader.at == bytes.count else { throw reader.error("text after the JSON value") }
        return node
    }

    private init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    private func error(_ reason: String) -> JSONSyntaxError { JSONSyntaxError(offset: at, reason: reason) }

    private var current: UInt8? { at < bytes.count ? bytes[at] : nil }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 32 || byte == 10 || byte == 13 || byte == 9 { at += 1 }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(JSONSyntaxError) {
        skipWhitespace()
        guard current == byte else { throw error(current == nil ? "the JSON ends early" : "expected \(what)") }
        at += 1
    }

    private mutating func value() throws(JSONSyntaxError) -> JSONNode {
        guard let byte = current else { throw error("the JSON ends early") }
        switch byte {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try word("true"); return .bool(true)
        case UInt8(ascii: "f"): try word("false"); return .bool(false)
        case UInt8(ascii: "n"): try word("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw error("unexpected character '\(Character(Unicode.Scalar(byte)))'")
        }
    }

    private mutating func word(_ text: StaticString) throws(JSONSyntaxError) {
        let count = text.utf8CodeUnitCount
        guard at + count <= bytes.count,
              (0..<count).allSatisfy({ bytes[at + $0] == text.utf8Start[$0] }) else { throw error("unknown literal") }
        at += count
    }

    private mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        guard depth <= 256 else { throw error("nested more than 256 levels deep") }
        at += 1
    }

    private mutating func object() throws(JSONSyntaxError) -> JSONNode {
        try enter()
        defer { depth -= 1 }
        var members: [String: JSONNode] = [:]
        skipWhitespace()
        if current == UInt8(ascii: "}") { at += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw error("expected a member name in quotes") }
            let key = try string()
            try expect(UInt8(ascii: ":"), "':' after a member name")
            skipWhitespace()
            members[key] = try value()
            skipWhitespace()
            switch current {
            case UInt8(ascii: ",")?: at += 1
            case UInt8(ascii: "}")?: at += 1; return .object(members)
            case nil: throw error("the JSON ends inside an object")
            default: throw error("expected ',' or '}' in an object")
            }
        }
    }

    private mutating func array() throws(JSONSyntaxError) -> JSONNode {
        try enter()
        defer { depth -= 1 }
        var elements: [JSONNode] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") { at += 1; return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try value())
            skipWhitespace()
            switch current {
            case UInt8(ascii: ",")?: at += 1
            case UInt8(ascii: "]")?: at += 1; return .array(elements)
            case nil: throw error("the JSON ends inside an array")
            default: throw error("expected ',' or ']' in an array")
            }
        }
    }

    private mutating func number() throws(JSONSyntaxError) -> String {
        let start = at
        func digits(_ reader: inout JSONNodeReader) -> Int {
            let from = reader.at
            while let byte = reader.current, byte >= 48, byte <= 57 { reader.at += 1 }
            return reader.at - from
        }
        if current == UInt8(ascii: "-") { at += 1 }
        let whole = digits(&self)
        guard whole > 0 else { throw error("a number needs digits") }
        guard whole == 1 || bytes[at - whole] != 48 else { throw error("a number cannot start with 0") }
        if current == UInt8(ascii: ".") {
            at += 1
            guard digits(&self) > 0 else { throw error("a fraction needs digits") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            at += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { at += 1 }
            guard digits(&self) > 0 else { throw error("an exponent needs digits") }
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
    }

    private mutating func string() throws(JSONSyntaxError) -> String {
        at += 1
        let start = at
        // The common case: no escapes, one copy.
        while let byte = current, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
            guard byte >= 32 else { throw error("a control character inside a string") }
            at += 1
        }
        guard let stop = current else { throw error("the JSON ends inside a string") }
        var text = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<at]))
        if stop == UInt8(ascii: "\"") {
            at += 1
            return try utf8(text, from: start)
        }
        while let byte = current {
            switch byte {
            case UInt8(ascii: "\""):
                at += 1
                return try utf8(text, from: start)
            case UInt8(ascii: "\\"):
                at += 1
                try escape(into: &text)
            case 0..<32:
                throw error("a control character inside a string")
            default:
                text.append(byte)
                at += 1
            }
        }
        throw error("the JSON ends inside a string")
    }

    private func utf8(_ bytes: [UInt8], from start: Int) throws(JSONSyntaxError) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw JSONSyntaxError(offset: start, reason: "a string that is not UTF-8")
        }
        return text
    }

    private mutating func escape(into text: inout [UInt8]) throws(JSONSyntaxError) {
        guard let byte = current else { throw error("the JSON ends inside an escape") }
        at += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(byte)
        case UInt8(ascii: "b"): text.append(8)
        case UInt8(ascii: "f"): text.append(12)
        case UInt8(ascii: "n"): text.append(10)
        case UInt8(ascii: "r"): text.append(13)
        case UInt8(ascii: "t"): text.append(9)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800..<0xDC00).contains(scalar) {
                // A high surrogate must be followed by an escaped low one.
                guard at + 1 < bytes.count, bytes[at] == 92, bytes[at + 1] == UInt8(ascii: "u") else {
                    throw error("a lone surrogate in \\u escapes")
                }
                at += 2
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw error("a lone surrogate in \\u escapes") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw error("a lone surrogate in \\u escapes") }
            text.append(contentsOf: Array(String(Character(unicode)).utf8))
        default:
            throw error("unknown escape '\\\(Character(Unicode.Scalar(byte)))'")
        }
    }

    private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard at + 4 <= bytes.count else { throw error("the JSON ends inside a \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[at]
            let digit: UInt8
            switch byte {
            case 48...57: digit = byte - 48
            case 65...70: digit = byte - 55
            case 97...102: digit = byte - 87
            default: throw error("a \\u escape needs four hex digits")
            }
            value = value << 4 | UInt32(digit)
            at += 1
        }
        return value
    }
}
