import Mustache
import TrellisCore

/// One notification template from the deployment config: the generic fields
/// every channel understands (`subject`, `text`, `html`), per-channel
/// variants (a channel's own message fields, such as Slack `blocks` or an
/// SMS `body`), and optionally how a digest of several reads. Every string
/// in it is a Mustache template; `html` escapes what it inserts, the others
/// insert text as given.
public struct NotificationTemplate: Sendable {
    public let id: String
    /// What a recipient opts out of.
    public let category: String?
    let fields: [String: TemplateValue]
    let channels: [String: [String: TemplateValue]]
    let digest: [String: TemplateValue]?

    public struct Problem: Error, Sendable, CustomStringConvertible {
        /// A JSON Pointer into the template (`/channels/channel.slack/blocks/0/text`).
        public var pointer: String
        public var message: String
        public var description: String { "\(pointer): \(message)" }
    }

    /// Compiles a template's config; throws every problem found.
    public init(id: String, config: JSONValue) throws(TemplateProblems) {
        var problems: [Problem] = []
        func compile(_ object: [String: JSONValue]?, at pointer: String) -> [String: TemplateValue] {
            (object ?? [:]).reduce(into: [:]) { result, entry in
                result[entry.key] = TemplateValue.compile(entry.value, html: entry.key == "html",
                                                          at: pointer + "/" + YAMLDocument.escape(entry.key), problems: &problems)
            }
        }
        self.id = id
        category = config["category"]?.stringValue
        var generic = config.objectValue ?? [:]
        for key in ["category", "channels", "digest"] { generic[key] = nil }
        fields = compile(generic, at: "")
        channels = (config["channels"]?.objectValue ?? [:]).reduce(into: [:]) { result, entry in
            result[entry.key] = compile(entry.value.objectValue, at: "/channels/" + YAMLDocument.escape(entry.key))
        }
        digest = config["digest"].map { compile($0.objectValue, at: "/digest") }
        if fields.isEmpty && channels.isEmpty {
            problems.append(Problem(pointer: "", message: "a template needs `subject`, `text`, `html` or per-channel `channels`"))
        }
        guard problems.isEmpty else { throw TemplateProblems(problems: problems) }
    }

    /// Every variable the template would render and `variables` lacks, by
    /// where it is used. `opaque` names are given but unknown until run time.
    public func missingVariables(_ variables: JSONValue, opaque: Set<String> = []) -> [Problem] {
        // The usual answer, none, without building a pointer or sorting.
        let complete = fields.values.allSatisfy { $0.complete(variables, opaque: opaque) }
            && channels.values.allSatisfy { $0.values.allSatisfy { $0.complete(variables, opaque: opaque) } }
        if complete { return [] }
        var problems = Self.missing(in: fields, at: "", variables, opaque: opaque)
        for (channel, values) in channels.sorted(by: { $0.key < $1.key }) {
            problems += Self.missing(in: values, at: "/channels/" + YAMLDocument.escape(channel), variables, opaque: opaque)
        }
        return problems
    }

    private static func missing(in values: [String: TemplateValue], at pointer: String, _ variables: JSONValue,
                                opaque: Set<String>) -> [Problem] {
        var problems: [Problem] = []
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            value.missing(variables, opaque: opaque, at: pointer + "/" + YAMLDocument.escape(key), into: &problems)
        }
        return problems
    }

    /// The generic fields and the channel's own variant, rendered. `checked`:
    /// the caller has already found no variable missing.
    public func render(for channel: String, variables: JSONValue, checked: Bool = false) throws(TemplateProblems) -> RenderedMessage {
        if !checked {
            let problems = missingVariables(variables)
            guard problems.isEmpty else { throw TemplateProblems(problems: problems) }
        }
        let input = TemplateValue.Input(variables)
        return RenderedMessage(fields: fields.mapValues { $0.render(input) },
                               channelFields: (channels[channel] ?? [:]).mapValues { $0.render(input) })
    }

    /// One message listing several: the template's `digest` fields rendered
    /// with `count` and `items` (each item's variables), or else each item's
    /// generic fields one after another.
    public func renderDigest(items: [JSONValue], key: String) throws(TemplateProblems) -> RenderedMessage {
        let variables: JSONValue = ["count": .number(Double(items.count)), "items": .array(items), "key": .string(key)]
        if let digest {
            let problems = Self.missing(in: digest, at: "/digest", variables, opaque: [])
            guard problems.isEmpty else { throw TemplateProblems(problems: problems) }
            let input = TemplateValue.Input(variables)
            return RenderedMessage(fields: digest.mapValues { $0.render(input) }, channelFields: [:])
        }
        let each = try items.map { item throws(TemplateProblems) in try render(for: "", variables: item).fields }
        var combined: [String: JSONValue] = [:]
        if let first = each.first?["subject"]?.stringValue {
            combined["subject"] = .string(items.count > 1 ? "\(first) (and \(items.count - 1) more)" : first)
        }
        for (field, separator) in [("text", "\n\n"), ("html", "\n<hr>\n")] {
            let parts = each.compactMap { $0[field]?.stringValue }
            if !parts.isEmpty { combined[field] = .string(parts.joined(separator: separator)) }
        }
        return RenderedMessage(fields: combined, channelFields: [:])
    }
}

/// A rendered template: the generic fields and a channel's own fields.
public struct RenderedMessage: Sendable, Equatable {
    public var fields: [String: JSONValue]
    public var channelFields: [String: JSONValue]
}

public struct TemplateProblems: Error, Sendable, CustomStringConvertible {
    public var problems: [NotificationTemplate.Problem]
    public var description: String { problems.map(\.description).joined(separator: "; ") }
}

/// A JSON value whose strings are compiled Mustache templates.
indirect enum TemplateValue: Sendable {
    /// A Mustache template, its tags, and its plain form when it has one.
    case text(MustacheTemplate, TemplateTags, plain: PlainTemplate?)
    case literal(JSONValue)
    case array([TemplateValue])
    case object([String: TemplateValue])

    static func compile(_ value: JSONValue, html: Bool, at pointer: String,
                        problems: inout [NotificationTemplate.Problem]) -> TemplateValue {
        switch value {
        case .string(let text):
            guard text.contains("{{") else { return .literal(value) }
            do {
                let tags = try TemplateTags(parsing: text)
                // HTML escapes what it inserts; every other field is text.
                let template = try MustacheTemplate(string: (html ? "" : "{{% CONTENT_TYPE: TEXT}}") + text)
                return .text(template, tags, plain: html ? nil : PlainTemplate(text))
            } catch let problem as TemplateTags.Problem {
                problems.append(.init(pointer: pointer, message: problem.description))
            } catch {
                problems.append(.init(pointer: pointer, message: "not a valid Mustache template: \(error)"))
            }
            return .literal(value)
        case .array(let items):
            return .array(items.enumerated().map { compile($1, html: html, at: "\(pointer)/\($0)", problems: &problems) })
        case .object(let object):
            return .object(object.reduce(into: [:]) { result, entry in
                result[entry.key] = compile(entry.value, html: html, at: pointer + "/" + YAMLDocument.escape(entry.key),
                                            problems: &problems)
            })
        default:
            return .literal(value)
        }
    }

    func missing(_ variables: JSONValue, opaque: Set<String>, at pointer: String,
                 into problems: inout [NotificationTemplate.Problem]) {
        switch self {
        case .text(_, let tags, _):
            for (name, line) in tags.missing(in: variables, opaque: opaque) {
                problems.append(.init(pointer: pointer, message: "line \(line): the variable '\(name)' is not given"))
            }
        case .literal: break
        case .array(let items):
            for (index, item) in items.enumerated() { item.missing(variables, opaque: opaque, at: "\(pointer)/\(index)", into: &problems) }
        case .object(let object):
            for (key, value) in object.sorted(by: { $0.key < $1.key }) {
                value.missing(variables, opaque: opaque, at: pointer + "/" + YAMLDocument.escape(key), into: &problems)
            }
        }
    }

    /// No variable it renders is missing.
    func complete(_ variables: JSONValue, opaque: Set<String>) -> Bool {
        switch self {
        case .text(_, let tags, _): tags.missing(in: variables, opaque: opaque).isEmpty
        case .literal: true
        case .array(let items): items.allSatisfy { $0.complete(variables, opaque: opaque) }
        case .object(let object): object.values.allSatisfy { $0.complete(variables, opaque: opaque) }
        }
    }

    /// The variables of one rendering, and the library's form of them,
    /// made only if a template needs it.
    final class Input {
        let variables: JSONValue
        lazy var context: Any = TemplateValue.context(variables)
        init(_ variables: JSONValue) { self.variables = variables }
    }

    func render(_ input: Input) -> JSONValue {
        switch self {
        case .text(let template, _, let plain): .string(plain?.render(input.variables) ?? template.render(input.context))
        case .literal(let value): value
        case .array(let items): .array(items.map { $0.render(input) })
        case .object(let object): .object(object.mapValues { $0.render(input) })
        }
    }

    /// JSON as the values Mustache walks: dictionaries, arrays, strings,
    /// whole numbers as integers. Nulls are left out (they render as nothing).
    static func context(_ value: JSONValue) -> Any {
        switch value {
        case .object(let object): object.compactMapValues { $0 == .null ? nil : context($0) } as [String: Any]
        case .array(let items): items.map(context) as [Any]
        case .string(let text): text
        case .bool(let flag): flag
        case .number(let number): number.rounded() == number && abs(number) < 1e15 ? Int(number) as Any : number as Any
        case .null: "" as Any
        }
    }
}
