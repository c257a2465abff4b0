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
        var parts: [Part] = []
        var rest = Substring(text)
        var consumed = 0
        while let open = rest.range(of: "${{") {
            if open.lowerBound > rest.startIndex { parts.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw ExpressionError(offset: consumed + rest.distance(from: rest.startIndex, to: open.lowerBound),
                                      message: "'${{' is not closed with '}}'")
            }
            let source = String(rest[open.upperBound..<close.lowerBound]).trimmingCharacters(in: .whitespaces)
            do {
                parts.append(.expression(try Expression.parse(source), source: source))
            } catch {
                throw ExpressionError(offset: consumed + rest.distance(from: rest.startIndex, to: open.upperBound) + error.offset,
                                      message: "in '${{ \(source) }}': \(error.message)")
            }
            consumed += rest.distance(from: rest.startIndex, to: close.upperBound)
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        self.parts = parts
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
        case .string(let text) where text.contains("${{"): [(pointer, text)]
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
        case .string(let text) where text.contains("${{"):
            return (try? Template(parsing: text))?.render(lookup) ?? self
        case .array(let items): return .array(items.map { $0.renderedAll(lookup) })
        case .object(let object): return .object(object.mapValues { $0.renderedAll(lookup) })
        default: return self
        }
    }

    /// Whether any string in the value holds a `${{ }}` expression.
    public var containsTemplate: Bool {
        switch self {
        case .string(let text): text.utf8.count >= 3 && text.contains("${{")
        case .array(let items): items.contains { $0.containsTemplate }
        case .object(let object): object.values.contains { $0.containsTemplate }
        default: false
        }
    }
}
