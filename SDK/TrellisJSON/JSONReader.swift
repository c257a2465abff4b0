/// A strict JSON reader (RFC 8259) over bytes, building whatever tree its
/// builder makes: the host's ``JSONValue`` (numbers as `Double`) or the
/// SDK's own tree (numbers kept as their text, so 64-bit integers stay
/// exact). Written by hand: plugin answers and stored events are read on
/// the runner's hot path, where Foundation's `JSONDecoder` costs several
/// microseconds a value.
///
/// Bounded: nesting deeper than ``JSONReader/maximumDepth`` is refused, and
/// the reader keeps no stack of its own beyond that depth.
public struct JSONReader<Builder: JSONTreeBuilder> {
    /// The deepest nesting of arrays and objects accepted.
    public static var maximumDepth: Int { 512 }

    @usableFromInline let bytes: UnsafeRawBufferPointer
    @usableFromInline var index = 0
    @usableFromInline var depth = 0
    @usableFromInline var builder: Builder

    /// Reads exactly one value (with optional whitespace around it).
    @inlinable
    public static func read(_ bytes: UnsafeRawBufferPointer, with builder: Builder) throws(JSONParseError) -> Builder.Node {
        var reader = JSONReader(bytes: bytes, builder: builder)
        reader.skipSpace()
        let value = try reader.readValue()
        reader.skipSpace()
        guard reader.index == bytes.count else { throw reader.fail("text after the JSON value") }
        return value
    }

    @inlinable
    init(bytes: UnsafeRawBufferPointer, builder: Builder) {
        self.bytes = bytes
        self.builder = builder
    }

    @inlinable
    func fail(_ message: String) -> JSONParseError { JSONParseError(offset: index, message: message) }

    @inlinable
    mutating func skipSpace() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
            index += 1
        }
    }

    @inlinable
    mutating func readValue() throws(JSONParseError) -> Builder.Node {
        guard index < bytes.count else { throw fail("the JSON ends early") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try readObject()
        case UInt8(ascii: "["): return try readArray()
        case UInt8(ascii: "\""): return builder.string(try readString())
        case UInt8(ascii: "t"): try literal("true"); return builder.bool(true)
        case UInt8(ascii: "f"): try literal("false"); return builder.bool(false)
        case UInt8(ascii: "n"): try literal("null"); return builder.null()
        default: return builder.number(try readNumber())
        }
    }

    @inlinable
    mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail("unknown literal") }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
            throw fail("unknown literal")
        }
        index += count
    }

    @inlinable
    mutating func nested() throws(JSONParseError) {
        depth += 1
        if depth > Self.maximumDepth { throw fail("nested more than \(Self.maximumDepth) levels deep") }
    }

    @inlinable
    mutating func readObject() throws(JSONParseError) -> Builder.Node {
        try nested()
        index += 1
        var object: [String: Builder.Node] = [:]
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return builder.object(object)
        }
        while true {
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a member name in quotes") }
            let key = try readString()
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':' after a member name") }
            index += 1
            skipSpace()
            object[key] = try readValue()
            skipSpace()
            guard index < bytes.count else { throw fail("the JSON ends inside an object") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; break }
            throw fail("expected ',' or '}' in an object")
        }
        depth -= 1
        return builder.object(object)
    }

    @inlinable
    mutating func readArray() throws(JSONParseError) -> Builder.Node {
        try nested()
        index += 1
        var array: [Builder.Node] = []
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return builder.array(array)
        }
        while true {
            skipSpace()
            array.append(try readValue())
            skipSpace()
            guard index < bytes.count else { throw fail("the JSON ends inside an array") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; break }
            throw fail("expected ',' or ']' in an array")
        }
        depth -= 1
        return builder.array(array)
    }

    /// A string's contents: escapes decoded, UTF-8 checked (invalid UTF-8 is refused).
    @inlinable
    mutating func readString() throws(JSONParseError) -> String {
        index += 1
        let start = index
        // Fast path: no escapes.
        while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\") {
            if bytes[index] < 0x20 { throw fail("a control character inside a string") }
            index += 1
        }
        guard index < bytes.count else { throw fail("the JSON ends inside a string") }
        if bytes[index] == UInt8(ascii: "\"") {
            guard let text = String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self) else {
                throw JSONParseError(offset: start, message: "a string that is not UTF-8")
            }
            index += 1
            return text
        }
        var scalars = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                guard let text = String(validating: scalars, as: UTF8.self) else {
                    throw JSONParseError(offset: start, message: "a string that is not UTF-8")
                }
                return text
            }
            if byte < 0x20 { throw fail("a control character inside a string") }
            if byte != UInt8(ascii: "\\") {
                scalars.append(byte)
                index += 1
                continue
            }
            index += 1
            guard index < bytes.count else { break }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""): scalars.append(0x22)
            case UInt8(ascii: "\\"): scalars.append(0x5C)
            case UInt8(ascii: "/"): scalars.append(0x2F)
            case UInt8(ascii: "b"): scalars.append(0x08)
            case UInt8(ascii: "f"): scalars.append(0x0C)
            case UInt8(ascii: "n"): scalars.append(0x0A)
            case UInt8(ascii: "r"): scalars.append(0x0D)
            case UInt8(ascii: "t"): scalars.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code) {
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                        throw fail("a lone surrogate in \\u escapes")
                    }
                    index += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("a lone surrogate in \\u escapes") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(code) else { throw fail("a lone surrogate in \\u escapes") }
                scalars.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                throw fail("unknown escape")
            }
        }
        throw fail("the JSON ends inside a string")
    }

    @inlinable
    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("the JSON ends inside a \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail("a \\u escape needs four hex digits")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    /// A number's text, checked against JSON's grammar (no leading zeros,
    /// digits after `.` and the exponent).
    @inlinable
    mutating func readNumber() throws(JSONParseError) -> String {
        let start = index
        @inline(__always) func isDigit(_ index: Int) -> Bool {
            index < bytes.count && bytes[index] >= UInt8(ascii: "0") && bytes[index] <= UInt8(ascii: "9")
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard isDigit(index) else { throw fail(index < bytes.count ? "unexpected character" : "the JSON ends early") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if isDigit(index) { throw fail("a number cannot start with 0") }
        } else {
            while isDigit(index) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard isDigit(index) else { throw fail("a fraction needs digits") }
            while isDigit(index) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard isDigit(index) else { throw fail("an exponent needs digits") }
            while isDigit(index) { index += 1 }
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }
}

/// What a ``JSONReader`` builds each value into.
public protocol JSONTreeBuilder {
    associatedtype Node
    func null() -> Node
    func bool(_ value: Bool) -> Node
    /// A number, as its JSON text (valid by JSON's grammar).
    func number(_ text: String) -> Node
    func string(_ value: String) -> Node
    func array(_ elements: [Node]) -> Node
    func object(_ members: [String: Node]) -> Node
}

public struct JSONParseError: Error, Sendable, CustomStringConvertible {
    /// Byte offset where reading stopped.
    public var offset: Int
    public var message: String
    public var description: String { "\(message) at byte \(offset)" }

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }
}

/// Builds ``JSONValue``s.
public struct JSONValueBuilder: JSONTreeBuilder {
    public init() {}
    @inlinable public func null() -> JSONValue { .null }
    @inlinable public func bool(_ value: Bool) -> JSONValue { .bool(value) }
    // The text is valid JSON number grammar, which Double's parser accepts.
    @inlinable public func number(_ text: String) -> JSONValue { .number(Double(text) ?? 0) }
    @inlinable public func string(_ value: String) -> JSONValue { .string(value) }
    @inlinable public func array(_ elements: [JSONValue]) -> JSONValue { .array(elements) }
    @inlinable public func object(_ members: [String: JSONValue]) -> JSONValue { .object(members) }
}

extension JSONValue {
    /// Parses JSON text.
    public init(json: some Collection<UInt8>) throws(JSONParseError) {
        let result: Result<JSONValue, JSONParseError>
        if let direct = json.withContiguousStorageIfAvailable({ buffer in
            Result { () throws(JSONParseError) in try JSONReader.read(UnsafeRawBufferPointer(buffer), with: JSONValueBuilder()) }
        }) {
            result = direct
        } else {
            let copy = Array(json)
            result = copy.withUnsafeBytes { buffer in
                Result { () throws(JSONParseError) in try JSONReader.read(buffer, with: JSONValueBuilder()) }
            }
        }
        self = try result.get()
    }
}
