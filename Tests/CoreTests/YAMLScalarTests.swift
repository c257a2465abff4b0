import Testing
import TrellisCore

/// Plain scalars get the types YAML gives them, through the fast paths
/// (plain integers, letter-led words) and through Yams alike.
@Suite struct YAMLScalarTests {
    @Test(arguments: [
        ("42", JSONValue.number(42)), ("-7", .number(-7)), ("0", .number(0)), ("1234567890123456", .number(1_234_567_890_123_456)),
        ("1.5", .number(1.5)), ("1e3", .number(1000)), ("0x1F", .number(31)), ("+3", .number(3)),
        ("yes", .bool(true)), ("Off", .bool(false)), ("true", .bool(true)), ("null", .null), ("~", .null),
        ("noop", .string("noop")), ("name", .string("name")), ("s12", .string("s12")), ("12a", .string("12a")),
        ("nope", .string("nope")), ("-x", .string("-x")), ("--", .string("--")),
        // Times and dates are text, as a workflow author means them (`at:`, quiet hours).
        ("2026-12-01T09:00:00Z", .string("2026-12-01T09:00:00Z")), ("2026-12-01", .string("2026-12-01")),
        ("12:30", .string("12:30")), ("22:00:00", .string("22:00:00")), ("1e-5", .number(1e-5)),
    ])
    func aPlainScalarHasItsYAMLType(text: String, expected: JSONValue) throws {
        let document = try YAMLDocument(text: "v: \(text)\n", file: "t.yaml")
        #expect(document.value["v"] == expected, "\(text)")
    }

    @Test func aQuotedScalarIsAString() throws {
        let document = try YAMLDocument(text: "a: \"42\"\nb: 'yes'\n", file: "t.yaml")
        #expect(document.value["a"] == "42")
        #expect(document.value["b"] == "yes")
    }
}

extension YAMLScalarTests {
    /// The documented unquoted one-time trigger validates.
    @Test func anUnquotedInstantIsAOneTimeTrigger() {
        let result = WorkflowLoader().load(text: """
            name: once
            triggers: [{ at: 2026-12-01T09:00:00Z }]
            steps: [{ id: a, uses: noop }]
            """, file: "once.yaml")
        #expect(result.problems.isEmpty, "\(result.problems)")
    }
}

/// Problems found at validation that used to surface only at run time.
@Suite struct ValidationGapTests {
    struct SecretsCatalog: PluginCatalog {
        func entry(for id: String) -> PluginCatalogEntry? { nil }
        var knownIDs: [String] { [] }
        var secretNames: Set<String>? { ["API_TOKEN"] }
    }

    @Test func aDefaultOfTheWrongTypeIsReportedAtItsPlace() {
        let result = WorkflowLoader().load(text: """
            name: typed
            inputs:
              count: { type: integer, default: abc }
            steps: [{ id: a, uses: noop }]
            """, file: "typed.yaml")
        #expect(result.problems.map(\.description) == [#"typed.yaml:3:27: inputs.count: the default "abc" is string, not integer"#])
    }

    @Test func anUndefinedSecretIsReportedWithASuggestion() {
        let result = WorkflowLoader(catalog: SecretsCatalog()).load(text: """
            name: secretive
            steps:
              - { id: a, uses: noop, with: { t: "${{ secrets.API_TOKN }}", u: "${{ secrets.API_TOKEN }}" } }
            """, file: "s.yaml")
        #expect(result.problems.count == 1)
        #expect(result.problems.first?.message == "refers to secrets.API_TOKN, which the deployment config does not define (did you mean 'API_TOKEN'?)")
    }
}

extension ValidationGapTests {
    @Test(arguments: ["../etc", "has space", "", "-dash", String(repeating: "n", count: 129)])
    func anUnsafeWorkflowNameIsRefused(name: String) {
        let result = WorkflowLoader().load(text: "name: \"\(name)\"\nsteps: [{ id: a, uses: noop }]\n", file: "n.yaml")
        #expect(result.workflow == nil)
        #expect(result.problems.first?.message.hasPrefix("name: must match the pattern") == true, "\(result.problems)")
    }
}
