import TrellisCore

/// A text template made only of literal text and plain variable tags
/// (`{{name}}`, `{{a.b}}`): the common notification line. It is rendered
/// by joining its parts, which is several times cheaper than the Mustache
/// library's general walk (a protocol cast per lookup). Anything else — a
/// section, a transform, `{{&…}}`, a comment, HTML — is not plain, and a
/// variable whose value is a list or an object is left to the library too,
/// so the output is always the library's.
struct PlainTemplate: Sendable {
    enum Part: Sendable {
        case text(String)
        case variable(TemplateTags.Name)
    }

    let parts: [Part]

    /// Nil when the template has anything but text and plain variables.
    init?(_ template: String) {
        var parts: [Part] = []
        var rest = Substring(template)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { parts.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else { return nil }
            let tag = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            guard let first = tag.unicodeScalars.first, !"#^/!>&{=%<$".unicodeScalars.contains(first),
                  !tag.contains(where: { $0 == "(" || $0 == ")" || $0 == " " || $0 == "}" }) else { return nil }
            parts.append(.variable(TemplateTags.Name(tag)))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        self.parts = parts
    }

    /// The template rendered as the library would, or nil when a variable's
    /// value is a list or an object (the library's own rendering applies).
    func render(_ variables: JSONValue) -> String? {
        var out = ""
        for part in parts {
            switch part {
            case .text(let text):
                out += text
            case .variable(let name):
                // Top level: the only context is the variables themselves.
                var value: JSONValue? = name.parts.isEmpty ? variables : variables
                for key in name.parts {
                    value = value?[key]
                }
                switch value {
                case .string(let text)?: out += text
                case .bool(let flag)?: out += flag ? "true" : "false"
                case .number?: out += String(describing: TemplateValue.context(value!))
                case .null?, nil: break   // nothing, as for a missing name
                case .array?, .object?: return nil
                }
            }
        }
        return out
    }
}
