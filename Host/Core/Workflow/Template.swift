import TrellisJSON

/// A string with `${{ expression }}` parts. A string that is exactly one
/// expression keeps the expression's JSON type; otherwise the parts are
/// interpolated into a string.
public struct Template: Sendable, Hashable {
    public enum Part: Sendable, Hashable {
        case text(String)
        case expression(Expression, source: String)
    }

    public let parts: [Part]

    public init(parsing text: String) throws(ExpressionError) {
        // Scanned as UTF-8 bytes: `${{` and `}}` are ASCII, and Foundation's
        // substring search costs more than a whole expression's parse.
        let bytes = Array(text.utf8)
        var parts: [Part] = []
        var position = 0
        func string(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
        while let open = Self.find(Self.openMarker, in: bytes, from: position) {
            if open > position { parts.append(.text(string(position..<open))) }
            guard let close = Self.find(Self.closeMarker, in: bytes, from: open + 3) else {
                throw ExpressionError(offset: open, message: "'${{' is not closed with '}}'")
            }
            var start = open + 3, end = close
            while start < end, bytes[start] == UInt8(ascii: " ") || bytes[start] == UInt8(ascii: "\t") { start += 1 }
            while end > start, bytes[end - 1] == UInt8(ascii: " ") || bytes[end - 1] == UInt8(ascii: "\t") { end -= 1 }
            let source = string(start..<end)
            do {
                parts.append(.expression(try Expression.parse(source), source: source))
            } catch {
                throw ExpressionError(offset: start + error.offset, message: "in '${{ \(source) }}': \(error.message)")
            }
            position = close + 2
        }
        if position < bytes.count { parts.append(.text(string(position..<bytes.count))) }
        self.parts = parts
    }

    static let openMarker: [UInt8] = Array("${{".utf8)
    static let closeMarker: [UInt8] = Array("}}".utf8)

    /// The first index of `needle` in `bytes` at or after `start`.
    static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard needle.count <= bytes.count, start <= bytes.count - needle.count else { return nil }
        var index = start
        while index <= bytes.count - needle.count {
            if bytes[index] == needle[0] {
                var matched = 1
                while matched < needle.count && bytes[index + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { return index }
            }
            index += 1
        }
        return nil
    }

    /// Whether `text` holds `${{` (the start of an expression).
    public static func hasExpressionMarker(_ text: String) -> Bool {
        var state = 0
        for byte in text.utf8 {
            switch (state, byte) {
            case (_, UInt8(ascii: "$")): state = 1
            case (1, UInt8(ascii: "{")): state = 2
            case (2, UInt8(ascii: "{")): return true
            default: state = 0
            }
        }
        return false
    }

    public var hasExpressions: Bool {
        parts.contains { if case .expression = $0 { true } else { false } }
    }

    public var expressions: [Expression] {
        parts.compactMap { if case .expression(let expression, _) = $0 { expression } else { nil } }
    }

    public func render(_ lookup: (String) -> JSONValue?) -> JSONValue {
        if parts.count == 1, case .expression(let expression, _) = parts[0] { return expression.evaluate(lookup) }
        return .string(parts.map { part in
            switch part {
            case .text(let text): text
            case .expression(let expression, _): expression.evaluate(lookup).interpolated
            }
        }.joined())
    }
}

extension JSONValue {
    /// Every template string in this value with its JSON Pointer.
    public func templates(at pointer: String = "") -> [(pointer: String, text: String)] {
        switch self {
        case .string(let text) where Template.hasExpressionMarker(text): [(pointer, text)]
        case .array(let items):
            items.enumerated().flatMap { $1.templates(at: "\(pointer)/\($0)") }
        case .object(let object):
            object.keys.sorted().flatMap { object[$0]!.templates(at: "\(pointer)/\(YAMLDocument.escape($0))") }
        default: []
        }
    }

    /// Renders every template string inside this value.
    /// A value without any is returned as it is, without being rebuilt.
    public func rendered(_ lookup: (String) -> JSONValue?) -> JSONValue {
        containsTemplate ? renderedAll(lookup) : self
    }

    private func renderedAll(_ lookup: (String) -> JSONValue?) -> JSONValue {
        switch self {
        case .string(let text) where Template.hasExpressionMarker(text):
            return (try? Template(parsing: text))?.render(lookup) ?? self
        case .array(let items): return .array(items.map { $0.renderedAll(lookup) })
        case .object(let object): return .object(object.mapValues { $0.renderedAll(lookup) })
        default: return self
        }
    }

    /// Whether any string in the value holds a `${{ }}` expression.
    public var containsTemplate: Bool {
        switch self {
        case .string(let text): text.utf8.count >= 3 && Template.hasExpressionMarker(text)
        case .array(let items): items.contains { $0.containsTemplate }
        case .object(let object): object.values.contains { $0.containsTemplate }
        default: false
        }
    }
}
