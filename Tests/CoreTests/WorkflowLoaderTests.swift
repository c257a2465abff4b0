import Testing
import TrellisCore

/// A catalog with a channel (whose input needs `text`), a provider, and a
/// recovery strategy; one disabled plugin.
struct TestCatalog: PluginCatalog {
    let entries: [String: PluginCatalogEntry] = [
        "channel.stdout": PluginCatalogEntry(id: "channel.stdout", kind: "channel", available: true,
                                             inputSchema: try! JSONSchema(["type": "object", "required": ["text"],
                                                                           "properties": ["text": ["type": "string"],
                                                                                          "count": ["type": "integer"]]])),
        "provider.offline": PluginCatalogEntry(id: "provider.offline", kind: "provider", available: true),
        "recovery.fixed-delay": PluginCatalogEntry(id: "recovery.fixed-delay", kind: "recovery", available: true,
                                                   inputSchema: try! JSONSchema(["type": "object", "additionalProperties": false,
                                                                                 "properties": ["max_attempts": ["type": "integer"]]])),
        "channel.slack": PluginCatalogEntry(id: "channel.slack", kind: "channel", available: false,
                                            unavailableReason: "enabled: false in the deployment config"),
    ]
    func entry(for id: String) -> PluginCatalogEntry? { entries[id] }
    var knownIDs: [String] { entries.keys.sorted() }
}

@Suite struct WorkflowLoaderTests {
    let loader = WorkflowLoader(catalog: TestCatalog())

    func problems(_ yaml: String) -> [String] {
        loader.load(text: yaml, file: "w.yaml").problems.map(\.description)
    }

    @Test func aValidWorkflow() throws {
        let result = loader.load(text: """
            name: greet
            inputs:
              who: { type: string, default: world }
            triggers:
              - cron: "0 9 * * mon-fri"
                timezone: Europe/Paris
                catch_up: latest
              - manual: {}
            concurrency: { max_active_runs: 2 }
            steps:
              - id: ask
                uses: provider.offline
                with: { model: "", messages: [{ role: user, content: "Hello ${{ inputs.who }}" }] }
                timeout: 30s
                priority: high
                recovery:
                  - uses: recovery.fixed-delay
                    with: { max_attempts: 3 }
              - id: tell
                uses: channel.stdout
                needs: ask
                if: steps.ask.output.text != ''
                with: { text: "${{ steps.ask.output.text }}" }
                cache: { ttl: 5m }
            """, file: "w.yaml")
        #expect(result.problems == [])
        let workflow = try #require(result.workflow)
        #expect(workflow.steps.map(\.id) == ["ask", "tell"])
        #expect(workflow.steps[0].timeoutSeconds == 30)
        #expect(workflow.steps[0].priority == .high)
        #expect(workflow.steps[1].needs == ["ask"])
        #expect(workflow.steps[1].cache?.ttlSeconds == 300)
        #expect(workflow.triggers.count == 2)
        #expect(workflow.triggers[0].catchUp == .latest)
        #expect(workflow.maxActiveRuns == 2)
        #expect(workflow.inputs.first?.defaultValue == "world")
    }

    @Test func yamlSyntaxError() {
        let found = problems("name: x\nsteps: [\n")
        #expect(found.count == 1)
        #expect(found[0].hasPrefix("w.yaml:"))
        #expect(found[0].contains("invalid YAML"))
    }

    @Test func unknownFieldsWithSuggestions() {
        let found = problems("""
            name: x
            steps:
              - id: a
                uses: noop
                neds: [b]
            """)
        #expect(found == ["w.yaml:5:5: steps[0].neds: unknown field 'neds' (did you mean 'needs'?)"])
    }

    @Test func duplicateIDs() {
        let found = problems("""
            name: x
            steps:
              - id: a
                uses: noop
              - id: a
                uses: noop
            """)
        #expect(found == ["w.yaml:5:5: duplicate step id 'a' (first used at line 3)"])
    }

    @Test func unknownAndUnavailablePlugins() {
        let found = problems("""
            name: x
            steps:
              - id: a
                uses: channel.stdot
                with: { text: hi }
              - id: b
                uses: channel.slack
            """)
        #expect(found == [
            "w.yaml:4:5: unknown plugin 'channel.stdot' (did you mean 'channel.stdout'?)",
            "w.yaml:7:5: plugin 'channel.slack' is not available: enabled: false in the deployment config",
        ])
    }

    @Test func inputsCheckedAgainstThePluginsSchema() {
        let found = problems("""
            name: x
            steps:
              - id: a
                uses: channel.stdout
                with:
                  count: many
              - id: b
                uses: channel.stdout
                with: { text: "${{ steps.a.output.id }}", count: "${{ steps.a.output.n }}" }
                needs: [a]
                recovery:
                  - uses: recovery.fixed-delay
                    with: { max_atempts: 2 }
            """)
        #expect(found.contains("w.yaml:5:5: steps[0].with: missing required field 'text'"))
        #expect(found.contains("w.yaml:6:7: steps[0].with.count: expected integer, got string"))
        #expect(found.contains { $0.contains("unknown field 'max_atempts' (did you mean 'max_attempts'?)") })
        #expect(!found.contains { $0.contains("steps[1].with.count") }, "a templated value is checked at run time")
    }

    @Test func referencesMustBeUpstream() {
        let found = problems("""
            name: x
            inputs: { who: {} }
            steps:
              - id: a
                uses: noop
              - id: b
                uses: noop
                with: { x: "${{ steps.a.output }}", y: "${{ steps.c.output }}", z: "${{ inputs.whom }}" }
              - id: c
                uses: noop
                needs: [b]
            """)
        #expect(found.contains("w.yaml:8:13: refers to steps.a, which is not upstream of 'b': add 'a' to its needs"))
        #expect(found.contains("w.yaml:8:41: refers to steps.c, which is not upstream of 'b': add 'c' to its needs"))
        #expect(found.contains("w.yaml:8:69: refers to inputs.whom, which the workflow does not declare (did you mean 'who'?)"))
    }

    @Test func cyclesNameTheirSteps() {
        let found = problems("""
            name: x
            steps:
              - id: a
                uses: noop
                needs: [c]
              - id: b
                uses: noop
                needs: [a]
              - id: c
                uses: noop
                needs: [b]
              - id: d
                uses: noop
                needs: [e]
            """)
        #expect(found.contains { $0.contains("dependency cycle: a → b → c → a") || $0.contains("dependency cycle: c → a → b → c")
            || $0.contains("dependency cycle: b → c → a → b") })
        #expect(found.contains("w.yaml:14:13: 'd' needs 'e', which is not a step"))
    }

    @Test func badExpressionsDurationsAndTriggers() {
        let found = problems("""
            name: x
            triggers:
              - cron: "61 * * * *"
              - cron: "@daily"
                timezone: Mars/Olympus
              - interval: soon
              - cron: "@hourly"
                interval: 5m
            steps:
              - id: a
                uses: noop
                timeout: forever
                if: "steps.a.output =="
                with: { t: "${{ nonsense.x }}" }
            """)
        #expect(found.contains { $0.hasPrefix("w.yaml:3:5: invalid cron expression: minute 61 is out of range 0-59") })
        #expect(found.contains { $0.hasPrefix("w.yaml:5:5: unknown time zone 'Mars/Olympus'") })
        #expect(found.contains { $0.hasPrefix("w.yaml:6:5: 'soon' is not a positive duration") })
        #expect(found.contains { $0.hasPrefix("w.yaml:7:5: a trigger has one kind") })
        #expect(found.contains { $0.hasPrefix("w.yaml:12:5: steps[0].timeout: 'forever' is not a duration") })
        #expect(found.contains { $0.hasPrefix("w.yaml:13:5: invalid condition") })
        #expect(found.contains { $0.hasPrefix("w.yaml:14:13: invalid expression: in '${{ nonsense.x }}': unknown name 'nonsense'") })
    }

    @Test func execNeedsTheDeploymentsPermission() {
        let yaml = "name: x\nsteps:\n  - id: a\n    uses: exec\n    with: { command: [echo, hi] }\n"
        #expect(problems(yaml).first?.contains("exec steps are disabled") == true)
        #expect(WorkflowLoader(catalog: TestCatalog(), allowExec: true).load(text: yaml, file: "w.yaml").problems == [])
    }
}
