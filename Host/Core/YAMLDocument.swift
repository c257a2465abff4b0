import TrellisJSON
import Yams

/// A place in a source file, 1-based.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// A YAML (or JSON) document as a JSON value, remembering where each value
/// came from so that an error can point at its line and column.
public struct YAMLDocument: Sendable {
    public let file: String
    public let value: JSONValue
    /// JSON Pointer (`/plugins/channel.stdout/config`) → where it was written.
    public let locations: [String: SourceLocation]

    public init(text: String, file: String, limits: YAMLLimits = .standard) throws(YAMLError) {
        self.file = file
        guard text.utf8.count <= limits.maximumBytes else {
            throw YAMLError(location: SourceLocation(file: file, line: 1, column: 1),
                            message: "the file is \(text.utf8.count) bytes, more than the limit of \(limits.maximumBytes)")
        }
        if let problem = limits.depthProblem(in: text, file: file) { throw problem }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw YAMLError(location: Self.location(of: error, file: file), message: Self.message(of: error))
        } catch {
            throw YAMLError(location: SourceLocation(file: file, line: 1, column: 1), message: "\(error)")
        }
        var locations: [String: SourceLocation] = [:]
        // About one located value per 12 bytes of a typical workflow.
        locations.reserveCapacity(text.utf8.count / 12)
        if let node {
            var budget = Budget(limits: limits)
            value = try Self.convert(node, path: "", at: nil, file: file, depth: 1, budget: &budget, into: &locations)
        } else {
            value = .null
        }
        self.locations = locations
    }

    /// Where the value at `pointer` was written; falls back to its nearest
    /// written parent, then to the top of the file.
    public func location(of pointer: String) -> SourceLocation {
        var pointer = pointer
        while true {
            if let location = locations[pointer] { return location }
            guard let slash = pointer.lastIndex(of: "/") else { break }
            pointer = String(pointer[..<slash])
        }
        return SourceLocation(file: file, line: 1, column: 1)
    }

    public static func escape(_ key: String) -> String { JSONPointer.escape(key) }

    /// `at`: where the value is reported (a mapping's value is reported at
    /// its key, so errors about a field point at the field's name).
    /// What is left of the limits while converting (aliases are expanded here).
    struct Budget {
        var limits: YAMLLimits
        var values = 0
    }

    private static func convert(_ node: Node, path: String, at: Mark?, file: String, depth: Int, budget: inout Budget,
                                into locations: inout [String: SourceLocation]) throws(YAMLError) -> JSONValue {
        let mark = at ?? node.mark
        let here = SourceLocation(file: file, line: mark?.line ?? 0, column: mark?.column ?? 0)
        budget.values += 1
        if budget.values > budget.limits.maximumValues {
            throw YAMLError(location: here, message: "the document expands to more than \(budget.limits.maximumValues) values "
                            + "(an alias repeats what it names, and aliases of aliases multiply)")
        }
        if depth > budget.limits.maximumDepth + 1 {
            throw YAMLError(location: here, message: "nested deeper than the limit of \(budget.limits.maximumDepth) levels "
                            + "(aliases nest what they name)")
        }
        locations[path] = here
        switch node {
        case .scalar(let scalar):
            return convert(scalar)
        case .sequence(let sequence):
            var items: [JSONValue] = []
            items.reserveCapacity(sequence.count)
            var index = 0
            for item in sequence {
                items.append(try convert(item, path: path + "/" + String(index), at: nil, file: file, depth: depth + 1,
                                         budget: &budget, into: &locations))
                index += 1
            }
            return .array(items)
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            object.reserveCapacity(mapping.count)
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw YAMLError(location: here, message: "mapping keys must be plain strings")
                }
                let name = keyScalar.string
                if object[name] != nil {
                    let at = SourceLocation(file: file, line: key.mark?.line ?? 0, column: key.mark?.column ?? 0)
                    throw YAMLError(location: at, message: "the key '\(name)' appears twice in the same mapping")
                }
                object[name] = try convert(value, path: path + "/" + escape(name), at: key.mark, file: file, depth: depth + 1,
                                           budget: &budget, into: &locations)
            }
            return .object(object)
        }
    }

    private static func convert(_ scalar: Node.Scalar) -> JSONValue {
        if scalar.style == .plain, let integer = plainInteger(scalar.string) { return .number(Double(integer)) }
        let node = Node.scalar(scalar)
        if scalar.style == .plain, mayBeTyped(scalar.string) {
            if node.null != nil { return .null }
            if let value = node.bool { return .bool(value) }
            if let value = node.int { return .number(Double(value)) }
            if let value = node.float, value.isFinite { return .number(value) }
        }
        return .string(scalar.string)
    }

    /// Whether a plain scalar may be a null, a boolean or a number (YAML 1.1
    /// spellings included: `~`, `yes`, `Off`, `.inf`, `0x1F`, `+3`). A word
    /// that starts with a letter and is none of those spellings is a string,
    /// without asking Yams's slower constructors.
    private static func mayBeTyped(_ text: String) -> Bool {
        guard let first = text.utf8.first else { return true }
        // Times and dates stay text (YAML 1.1 would make `12:30` the
        // sexagesimal number 750, and `2026-12-01T09:00:00Z` a timestamp):
        // no number has a colon, and a date starts with four digits and a dash.
        if text.utf8.contains(UInt8(ascii: ":")) { return false }
        let bytes = Array(text.utf8.prefix(5))
        if bytes.count == 5, bytes[4] == UInt8(ascii: "-"), bytes[0..<4].allSatisfy({ $0 >= 48 && $0 <= 57 }) { return false }
        switch first {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return typedWords.contains(text)
        default:
            return true
        }
    }

    private static let typedWords: Set<String> = [
        "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes", "YES",
        "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N",
    ]

    /// A plain decimal integer (`42`, `-7`, up to 15 digits), read without
    /// Yams's constructors, which try sexagesimal and underscored forms and
    /// cost more than the rest of the value. Anything else is nil.
    private static func plainInteger(_ text: String) -> Int64? {
        let utf8 = text.utf8
        guard !utf8.isEmpty, utf8.count <= 16 else { return nil }
        var value: Int64 = 0
        var negative = false
        var digits = 0
        for (index, byte) in utf8.enumerated() {
            if index == 0 && byte == UInt8(ascii: "-") { negative = true; continue }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            // A leading zero makes YAML 1.1 read it as octal: leave that to Yams.
            if digits == 0 && byte == UInt8(ascii: "0") && utf8.count > (negative ? 2 : 1) { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            digits += 1
        }
        guard digits > 0 else { return nil }
        return negative ? -value : value
    }

    private static func location(of error: YamlError, file: String) -> SourceLocation {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return SourceLocation(file: file, line: mark.line, column: mark.column)
        default:
            return SourceLocation(file: file, line: 1, column: 1)
        }
    }

    private static func message(of error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _),
             .composer(let context, let problem, _, _):
            return [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        default:
            return "\(error)"
        }
    }
}

public struct YAMLError: Error, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String
    public var description: String { "\(location): invalid YAML: \(message)" }
}
