import Mustache
import Testing
import TrellisCore
@testable import TrellisRuntime

/// Plain templates skip the Mustache library; what they render must be
/// exactly what the library renders from the same variables.
@Suite struct PlainTemplateTests {
    static let variables: JSONValue = [
        "kind": "disk.full", "host": "web-1", "a": ["b": "deep", "n": .null], "n": 3, "f": 1.5, "big": 12_345_678_901,
        "t": true, "off": false, "nothing": .null, "name": "<b>Ünïcode & \"quotes\" 😀</b>", "list": ["x", "y"],
    ]

    func library(_ template: String, _ variables: JSONValue) throws -> String {
        try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + template).render(TemplateValue.context(variables))
    }

    @Test(arguments: [
        "{{kind}} on {{host}}",
        "{{kind}} on {{host}} at {{ n }}: {{f}} / {{big}}",
        "flags {{t}} {{off}}, empty: [{{nothing}}] [{{missing}}] [{{a.n}}] [{{a.missing.deeper}}]",
        "nested {{a.b}} and local {{.kind}}",
        "line one\n  {{name}}\nline three\n",
        "no tags at all",
        "a }} stray closer, then {{host}}",
        "{{kind}}{{host}}{{kind}}",
    ])
    func rendersWhatTheLibraryRenders(template: String) throws {
        let plain = try #require(PlainTemplate(template), "\(template) is plain")
        #expect(plain.render(Self.variables) == (try library(template, Self.variables)))
    }

    @Test(arguments: ["{{#t}}x{{/t}}", "{{^t}}x{{/t}}", "{{&name}}", "{{{name}}}", "{{! note }}", "{{ uppercased(host) }}",
                      "{{> partial}}", "{{kind}} {{unclosed"])
    func onlyTextAndPlainVariablesArePlain(template: String) {
        #expect(PlainTemplate(template) == nil)
    }

    @Test func aListOrAnObjectIsLeftToTheLibrary() throws {
        #expect(PlainTemplate("items: {{list}}")?.render(Self.variables) == nil)
        #expect(PlainTemplate("{{a}}")?.render(Self.variables) == nil)
        #expect(PlainTemplate("{{.}}")?.render(Self.variables) == nil)
        // Through a compiled template, the library renders them.
        let template = try NotificationTemplate(id: "t", config: ["text": "items: {{#list}}{{.}},{{/list}} {{host}}"])
        let rendered = try template.render(for: "channel.webhook", variables: Self.variables)
        #expect(rendered.fields["text"] == "items: x,y, web-1")
    }

    @Test func htmlFieldsAreNeverPlain() throws {
        let template = try NotificationTemplate(id: "t", config: ["html": "<p>{{name}}</p>", "text": "{{name}}"])
        let rendered = try template.render(for: "channel.email", variables: Self.variables)
        #expect(rendered.fields["html"] == "<p>&lt;b&gt;Ünïcode &amp; &quot;quotes&quot; 😀&lt;/b&gt;</p>")
        #expect(rendered.fields["text"] == .string(Self.variables["name"]!.stringValue!))
    }
}
