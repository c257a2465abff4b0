import TrellisCore

/// The tags of a Mustache template, as a tree, so a template can be checked
/// against its variables before anything is sent: every name it would
/// render must be given (null or false leaves a section out). Rendering
/// itself is the Mustache library's; this only reads the tags.
struct TemplateTags: Sendable {
    indirect enum Node: Sendable {
        case variable(Name, line: Int)
        case section(Name, inverted: Bool, line: Int, children: [Node])
    }

    /// A tag's name, split once into the parts a lookup follows.
    struct Name: Sendable, CustomStringConvertible {
        let description: String
        /// `a.b` → ["a", "b"]; empty for `.` (the current value).
        let parts: [String]
        /// `.a`: looked up only in the current context.
        let local: Bool

        init(_ text: String) {
            description = text
            parts = text == "." ? [] : text.split(separator: ".").map(String.init)
            local = text.hasPrefix(".")
        }
    }

    let nodes: [Node]

    struct Problem: Error, Sendable, CustomStringConvertible {
        var line: Int
        var message: String
        var description: String { "line \(line): \(message)" }
    }

    init(parsing text: String) throws(Problem) {
        var stack: [(name: String, inverted: Bool, line: Int, children: [Node])] = [("", false, 1, [])]
        var rest = Substring(text)
        var line = 1
        while let open = rest.range(of: "{{") {
            line += rest[..<open.lowerBound].count { $0 == "\n" }
            let triple = rest[open.upperBound...].hasPrefix("{")
            let closer = triple ? "}}}" : "}}"
            let bodyStart = triple ? rest.index(after: open.upperBound) : open.upperBound
            guard let close = rest[bodyStart...].range(of: closer) else {
                throw Problem(line: line, message: "'{{' is not closed with '\(closer)'")
            }
            let tag = rest[bodyStart..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            let tagLine = line
            line += rest[open.lowerBound..<close.upperBound].count { $0 == "\n" }
            rest = rest[close.upperBound...]
            guard let sigil = tag.first else { throw Problem(line: tagLine, message: "an empty tag '{{}}'") }
            let name = Self.name(in: triple ? tag : String(tag.drop { "&#^/".contains($0) }).trimmingCharacters(in: .whitespaces))
            switch triple ? "&" : sigil {
            case "!", "%":
                continue
            case "#", "^":
                stack.append((name, sigil == "^", tagLine, []))
            case "/":
                guard stack.count > 1, let open = stack.last, open.name == name else {
                    throw Problem(line: tagLine, message: "'{{/\(name)}}' closes no open section"
                                  + (stack.count > 1 ? " (the open one is '\(stack[stack.count - 1].name)')" : ""))
                }
                stack.removeLast()
                stack[stack.count - 1].children.append(.section(Name(open.name), inverted: open.inverted, line: open.line,
                                                                children: open.children))
            case ">", "<", "$", "=":
                throw Problem(line: tagLine, message: "'{{\(tag)}}': partials, blocks and delimiter changes are not available in notification templates")
            default:
                stack[stack.count - 1].children.append(.variable(Name(name), line: tagLine))
            }
        }
        guard stack.count == 1, let root = stack.first else {
            let open = stack[stack.count - 1]
            throw Problem(line: open.line, message: "section '{{#\(open.name)}}' is not closed with '{{/\(open.name)}}'")
        }
        nodes = root.children
    }

    /// `uppercased(name)` names `name`.
    private static func name(in tag: String) -> String {
        var name = Substring(tag)
        while let open = name.firstIndex(of: "("), name.hasSuffix(")") {
            name = name[name.index(after: open)..<name.index(before: name.endIndex)]
        }
        return name.trimmingCharacters(in: .whitespaces)
    }

    /// The names that rendering with `variables` would look up and not find,
    /// with the line of each. Sections are followed the way Mustache renders
    /// them: once per element of a list, into an object, not at all when
    /// falsy (inverted sections the other way round). Top-level names in
    /// `opaque` are given but not yet known (a workflow expression): they
    /// count as present and their sections are not followed.
    func missing(in variables: JSONValue, opaque: Set<String> = []) -> [(name: String, line: Int)] {
        var found: [(String, Int)] = []
        check(nodes, stack: [variables], opaque: opaque, into: &found)
        var seen = Set<String>()
        return found.filter { seen.insert($0.0).inserted }
    }

    private enum Resolution { case value(JSONValue), opaque, missing }

    private func check(_ nodes: [Node], stack: [JSONValue], opaque: Set<String>, into missing: inout [(String, Int)]) {
        for node in nodes {
            switch node {
            case .variable(let name, let line):
                if case .missing = Self.resolve(name, in: stack, opaque: opaque) { missing.append((name.description, line)) }
            case .section(let name, let inverted, let line, let children):
                let value: JSONValue
                switch Self.resolve(name, in: stack, opaque: opaque) {
                case .missing: missing.append((name.description, line)); continue
                case .opaque: continue
                case .value(let found): value = found
                }
                let truthy: Bool
                switch value {
                case .null: truthy = false
                case .bool(let flag): truthy = flag
                case .array(let items): truthy = !items.isEmpty
                case .string(let text): truthy = !text.isEmpty
                default: truthy = true
                }
                if inverted {
                    if !truthy { check(children, stack: stack, opaque: opaque, into: &missing) }
                } else if case .array(let items) = value {
                    for item in items { check(children, stack: stack + [item], opaque: opaque, into: &missing) }
                } else if truthy {
                    check(children, stack: value == .bool(true) ? stack : stack + [value], opaque: opaque, into: &missing)
                }
            }
        }
    }

    /// Mustache's lookup: `.` is the current value; `a.b` finds `a` in the
    /// innermost context that has it, then `b` inside it; `.a` looks only
    /// in the current context.
    private static func resolve(_ name: Name, in stack: [JSONValue], opaque: Set<String>) -> Resolution {
        guard let first = name.parts.first else { return stack.last.map(Resolution.value) ?? .missing }
        let found = name.local ? stack.last?[first] : stack.reversed().lazy.compactMap({ $0[first] }).first
        guard let start = found else {
            // The root is the last context searched: an opaque name there is given.
            return !name.local && opaque.contains(first) ? .opaque : .missing
        }
        var value = start
        for part in name.parts.dropFirst() {
            guard let next = value[part] else { return .missing }
            value = next
        }
        return .value(value)
    }
}
