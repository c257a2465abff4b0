import TrellisJSON

/// An expression inside `${{ … }}` or an `if:`: paths into the run's data
/// (`inputs.x`, `steps.fetch.output.text`, `run.id`, `secrets.NAME`),
/// literals, comparisons and `!`, `&&`, `||`.
public indirect enum Expression: Sendable, Hashable {
    case literal(JSONValue)
    case path([PathComponent])
    case not(Expression)
    case and(Expression, Expression)
    case or(Expression, Expression)
    case compare(Expression, Comparison, Expression)

    public enum PathComponent: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    public enum Comparison: String, Sendable, Hashable {
        case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    }

    /// The roots an expression may start from.
    public static let roots: Set<String> = ["inputs", "steps", "run", "secrets"]

    /// Parses `text`; the error's offset is within `text`.
    public static func parse(_ text: String) throws(ExpressionError) -> Expression {
        var parser = ExpressionParser(text)
        let expression = try parser.parseOr()
        try parser.expectEnd()
        return expression
    }

    /// Every path the expression reads.
    public var paths: [[PathComponent]] {
        switch self {
        case .literal: []
        case .path(let path): [path]
        case .not(let inner): inner.paths
        case .and(let left, let right), .or(let left, let right), .compare(let left, _, let right): left.paths + right.paths
        }
    }

    /// The step ids this expression reads from (`steps.<id>…`).
    public var referencedSteps: [String] {
        paths.compactMap { path in
            guard path.count >= 2, path[0] == .key("steps"), case .key(let id) = path[1] else { return nil }
            return id
        }
    }

    /// Evaluates against `lookup`, which answers for a root name (`inputs`,
    /// `steps`, …) with its JSON value. A missing path is `null`.
    public func evaluate(_ lookup: (String) -> JSONValue?) -> JSONValue {
        switch self {
        case .literal(let value):
            return value
        case .path(let path):
            guard case .key(let root)? = path.first, var value = lookup(root) else { return .null }
            for component in path.dropFirst() {
                switch (component, value) {
                case (.key(let key), .object(let object)): value = object[key] ?? .null
                case (.index(let index), .array(let array)) where array.indices.contains(index): value = array[index]
                default: return .null
                }
            }
            return value
        case .not(let inner):
            return .bool(!inner.evaluate(lookup).isTruthy)
        case .and(let left, let right):
            let first = left.evaluate(lookup)
            return first.isTruthy ? right.evaluate(lookup) : first
        case .or(let left, let right):
            let first = left.evaluate(lookup)
            return first.isTruthy ? first : right.evaluate(lookup)
        case .compare(let left, let comparison, let right):
            return .bool(Self.compare(left.evaluate(lookup), comparison, right.evaluate(lookup)))
        }
    }

    private static func compare(_ left: JSONValue, _ comparison: Comparison, _ right: JSONValue) -> Bool {
        switch comparison {
        case .equal: return left == right
        case .notEqual: return left != right
        default: break
        }
        let ordered: Bool?
        switch (left, right) {
        case (.number(let a), .number(let b)):
            ordered = comparison == .less ? a < b : comparison == .lessOrEqual ? a <= b
                : comparison == .greater ? a > b : a >= b
        case (.string(let a), .string(let b)):
            ordered = comparison == .less ? a < b : comparison == .lessOrEqual ? a <= b
                : comparison == .greater ? a > b : a >= b
        default:
            ordered = nil
        }
        return ordered ?? false
    }
}

extension JSONValue {
    /// Truthiness for conditions: false, null, 0, "" and empty collections are false.
    public var isTruthy: Bool {
        switch self {
        case .null: false
        case .bool(let value): value
        case .number(let value): value != 0
        case .string(let value): !value.isEmpty
        case .array(let value): !value.isEmpty
        case .object(let value): !value.isEmpty
        }
    }

    /// How a value reads when interpolated into a string.
    public var interpolated: String {
        switch self {
        case .null: ""
        case .string(let value): value
        case .bool(let value): value ? "true" : "false"
        case .number: jsonString()
        default: jsonString()
        }
    }
}

public struct ExpressionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Character offset in the expression text.
    public var offset: Int
    public var message: String
    public var description: String { message }
}
