import Foundation
import Synchronization
import TrellisJSON

/// One way a value fails its schema: where (a JSON Pointer) and what.
public struct SchemaViolation: Sendable, Hashable, CustomStringConvertible {
    /// JSON Pointer to the offending value (`/retries/0`); empty for the root.
    public var path: String
    public var message: String

    public var description: String { "\(path.isEmpty ? "(top level)" : path): \(message)" }
}

/// A JSON Schema (the subset Trellis manifests use, from draft 2020-12):
/// `type`, `properties`, `required`, `additionalProperties`, `items`,
/// `enum`, `const`, `minimum`, `maximum`, `exclusiveMinimum`,
/// `exclusiveMaximum`, `minLength`, `maxLength`, `pattern`, `minItems`,
/// `maxItems`, `uniqueItems`, `minProperties`, `maxProperties`, `allOf`,
/// `anyOf`, `oneOf`, `not`, and local `$ref`s into `$defs`/`definitions`.
/// Annotations (`title`, `description`, `default`, `examples`, `format`)
/// are accepted and not checked.
public struct JSONSchema: Sendable, Hashable {
    public let root: JSONValue

    static let supportedKeywords: Set<String> = [
        "type", "properties", "required", "additionalProperties", "items", "enum", "const",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
        "pattern", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties",
        "allOf", "anyOf", "oneOf", "not", "$ref", "$defs", "definitions", "$schema", "$id",
        "title", "description", "default", "examples", "format", "deprecated", "readOnly", "writeOnly",
        "$comment",
    ]

    public init(_ root: JSONValue) throws {
        guard root.objectValue != nil || root.boolValue != nil else {
            throw SchemaError(message: "a schema must be an object or a boolean, not \(root.typeName)")
        }
        self.root = root
        try Self.checkKeywords(root, path: "")
    }

    /// Every violation of the schema by `value`, in document order.
    public func validate(_ value: JSONValue) -> [SchemaViolation] {
        var violations: [SchemaViolation] = []
        check(value, against: root, path: "", into: &violations)
        return violations
    }

    /// Refuses keywords the validator does not know, so that a schema never
    /// silently checks less than its author meant.
    private static func checkKeywords(_ schema: JSONValue, path: String) throws {
        guard let object = schema.objectValue else { return }
        for (key, value) in object {
            guard supportedKeywords.contains(key) else {
                throw SchemaError(message: "unsupported schema keyword '\(key)' at '\(path.isEmpty ? "/" : path)'")
            }
            switch key {
            case "type":
                let names = value.stringValue.map { [$0] } ?? value.arrayValue?.compactMap(\.stringValue) ?? []
                let types: Set<String> = ["null", "boolean", "object", "array", "number", "integer", "string"]
                guard !names.isEmpty, names.allSatisfy(types.contains),
                      names.count == (value.arrayValue?.count ?? 1) else {
                    throw SchemaError(message: "'type' at '\(path.isEmpty ? "/" : path)' must be one of "
                                      + "\(types.sorted().joined(separator: ", ")) (or a list of them), not \(value.jsonString())")
                }
            case "properties", "$defs", "definitions":
                for (name, sub) in value.objectValue ?? [:] { try checkKeywords(sub, path: "\(path)/\(key)/\(name)") }
            case "items", "additionalProperties", "not":
                try checkKeywords(value, path: "\(path)/\(key)")
            case "allOf", "anyOf", "oneOf":
                for (index, sub) in (value.arrayValue ?? []).enumerated() {
                    try checkKeywords(sub, path: "\(path)/\(key)/\(index)")
                }
            default:
                break
            }
        }
    }

    private func resolve(_ reference: String) -> JSONValue? {
        guard reference.hasPrefix("#") else { return nil }
        var node = root
        for token in reference.dropFirst().split(separator: "/") {
            let key = JSONPointer.unescape(token)
            guard let next = node[key] else { return nil }
            node = next
        }
        return node
    }

    private func check(_ value: JSONValue, against schema: JSONValue, path: String,
                       into violations: inout [SchemaViolation]) {
        if case .bool(let allowed) = schema {
            if !allowed { violations.append(SchemaViolation(path: path, message: "no value is allowed here")) }
            return
        }
        guard let schema = schema.objectValue else { return }
        func fail(_ message: String) { violations.append(SchemaViolation(path: path, message: message)) }

        if let reference = schema["$ref"]?.stringValue {
            if let target = resolve(reference) {
                check(value, against: target, path: path, into: &violations)
            } else {
                fail("the schema refers to '\(reference)', which it does not define")
            }
        }
        if let type = schema["type"] {
            let allowed = type.arrayValue?.compactMap(\.stringValue) ?? [type.stringValue ?? ""]
            let actual = value.typeName
            let matches = allowed.contains(actual) || (actual == "integer" && allowed.contains("number"))
            if !matches {
                fail("expected \(allowed.joined(separator: " or ")), got \(actual)")
                return
            }
        }
        if let options = schema["enum"]?.arrayValue, !options.contains(value) {
            fail("must be one of \(options.map { $0.jsonString() }.joined(separator: ", "))")
        }
        if let constant = schema["const"], constant != value {
            fail("must be \(constant.jsonString())")
        }
        switch value {
        case .number(let number): checkNumber(number, schema).forEach(fail)
        case .string(let string): checkString(string, schema).forEach(fail)
        case .array(let items): checkArray(items, schema, path: path, into: &violations)
        case .object(let object): checkObject(object, schema, path: path, into: &violations)
        default: break
        }
        checkCombinators(value, schema, path: path, into: &violations)
    }

    private func checkNumber(_ number: Double, _ schema: [String: JSONValue]) -> [String] {
        var problems: [String] = []
        func fail(_ message: String) { problems.append(message) }
        if let minimum = schema["minimum"]?.doubleValue, number < minimum { fail("must be at least \(format(minimum))") }
        if let maximum = schema["maximum"]?.doubleValue, number > maximum { fail("must be at most \(format(maximum))") }
        if let bound = schema["exclusiveMinimum"]?.doubleValue, number <= bound { fail("must be greater than \(format(bound))") }
        if let bound = schema["exclusiveMaximum"]?.doubleValue, number >= bound { fail("must be less than \(format(bound))") }
        return problems
    }

    private func checkString(_ string: String, _ schema: [String: JSONValue]) -> [String] {
        var problems: [String] = []
        func fail(_ message: String) { problems.append(message) }
        let length = string.count
        if let minimum = schema["minLength"]?.doubleValue, Double(length) < minimum {
            fail("must be at least \(counted(minimum, "character")) long")
        }
        if let maximum = schema["maxLength"]?.doubleValue, Double(length) > maximum {
            fail("must be at most \(counted(maximum, "character")) long")
        }
        if let pattern = schema["pattern"]?.stringValue {
            if let regex = Self.regex(pattern) {
                let range = NSRange(string.startIndex..., in: string)
                if regex.firstMatch(in: string, range: range) == nil { fail("must match the pattern \(pattern)") }
            } else {
                fail("the schema's pattern \(pattern) is not a valid regular expression")
            }
        }
        return problems
    }

    private func checkArray(_ items: [JSONValue], _ schema: [String: JSONValue], path: String,
                            into violations: inout [SchemaViolation]) {
        func fail(_ message: String) { violations.append(SchemaViolation(path: path, message: message)) }
        if let minimum = schema["minItems"]?.doubleValue, Double(items.count) < minimum {
            fail("must have at least \(counted(minimum, "item"))")
        }
        if let maximum = schema["maxItems"]?.doubleValue, Double(items.count) > maximum {
            fail("must have at most \(counted(maximum, "item"))")
        }
        if schema["uniqueItems"]?.boolValue == true, Set(items).count != items.count { fail("items must be unique") }
        if let itemSchema = schema["items"] {
            for (index, item) in items.enumerated() {
                check(item, against: itemSchema, path: "\(path)/\(index)", into: &violations)
            }
        }
    }

    private func checkObject(_ object: [String: JSONValue], _ schema: [String: JSONValue], path: String,
                             into violations: inout [SchemaViolation]) {
        func fail(_ message: String) { violations.append(SchemaViolation(path: path, message: message)) }
        let properties = schema["properties"]?.objectValue ?? [:]
        for name in (schema["required"]?.arrayValue ?? []).compactMap(\.stringValue) where object[name] == nil {
            fail("missing required field '\(name)'")
        }
        if let minimum = schema["minProperties"]?.doubleValue, Double(object.count) < minimum {
            fail("must have at least \(counted(minimum, "field"))")
        }
        if let maximum = schema["maxProperties"]?.doubleValue, Double(object.count) > maximum {
            fail("must have at most \(counted(maximum, "field"))")
        }
        for key in object.keys.sorted() {
            let child = "\(path)/\(JSONPointer.escape(key))"
            if let propertySchema = properties[key] {
                check(object[key]!, against: propertySchema, path: child, into: &violations)
            } else if let additional = schema["additionalProperties"] {
                if additional == .bool(false) {
                    let known = properties.keys.sorted()
                    var message = "unknown field '\(key)'"
                    if let suggestion = closest(to: key, in: known) { message += " (did you mean '\(suggestion)'?)" }
                    else if !known.isEmpty { message += "; known fields: \(known.joined(separator: ", "))" }
                    violations.append(SchemaViolation(path: child, message: message))
                } else {
                    check(object[key]!, against: additional, path: child, into: &violations)
                }
            }
        }
    }

    private func checkCombinators(_ value: JSONValue, _ schema: [String: JSONValue], path: String,
                                  into violations: inout [SchemaViolation]) {
        func fail(_ message: String) { violations.append(SchemaViolation(path: path, message: message)) }
        func passes(_ sub: JSONValue) -> Bool {
            var scratch: [SchemaViolation] = []
            check(value, against: sub, path: path, into: &scratch)
            return scratch.isEmpty
        }
        for sub in schema["allOf"]?.arrayValue ?? [] { check(value, against: sub, path: path, into: &violations) }
        if let options = schema["anyOf"]?.arrayValue, !options.contains(where: passes) {
            fail("matches none of the \(options.count) allowed forms (anyOf)")
        }
        if let options = schema["oneOf"]?.arrayValue {
            let matching = options.filter(passes).count
            if matching != 1 { fail("must match exactly one of \(options.count) forms (oneOf), matches \(matching)") }
        }
        if let negated = schema["not"], passes(negated) { fail("must not match the schema under 'not'") }
    }

    /// A bound as people read it: 3, not 3.0; a number past Int64 (or not
    /// finite) as Swift writes a Double, never converted (that would trap).
    static func format(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 9e18 ? String(Int64(number)) : String(number)
    }

    private func format(_ number: Double) -> String { Self.format(number) }

    /// "1 character", "8 characters".
    private func counted(_ number: Double, _ noun: String) -> String {
        "\(format(number)) \(noun)\(number == 1 ? "" : "s")"
    }
}

public struct SchemaError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { "invalid JSON Schema: \(message)" }
}

/// The candidate closest to `word` by edit distance, if it is close enough
/// to be a likely typo.
public func closest(to word: String, in candidates: [String]) -> String? {
    let best = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }.min { $0.1 < $1.1 }
    // Close enough to be a typo, and not a wholesale replacement of a short word.
    guard let best, best.1 <= max(1, min(word.count, best.0.count) / 3), best.1 < max(word.count, best.0.count) else {
        return nil
    }
    return best.0
}

/// Levenshtein distance between two strings.
public func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}

extension JSONSchema {
    /// Compiled patterns, by their text: a schema checks the same few
    /// patterns against every value (every step id of a workflow).
    /// `NSRegularExpression` matches from any thread.
    private static let compiledPatterns = Mutex<[String: NSRegularExpression?]>([:])

    static func regex(_ pattern: String) -> NSRegularExpression? {
        if let cached = compiledPatterns.withLock({ $0[pattern] }) { return cached }
        let compiled = try? NSRegularExpression(pattern: pattern)
        compiledPatterns.withLock { $0[pattern] = .some(compiled) }
        return compiled
    }
}
