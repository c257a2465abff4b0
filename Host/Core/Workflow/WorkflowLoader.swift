import Foundation
import TrellisJSON

/// Reads a workflow file into a ``Workflow`` and reports every problem with
/// its file, line and column. A workflow with problems is not returned.
public struct WorkflowLoader: Sendable {
    public var catalog: any PluginCatalog
    /// Whether `uses: exec` is allowed (the deployment config decides).
    public var allowExec: Bool

    public init(catalog: any PluginCatalog = EmptyPluginCatalog(), allowExec: Bool = false) {
        self.catalog = catalog
        self.allowExec = allowExec
    }

    public struct Result: Sendable {
        public var workflow: Workflow?
        public var problems: [WorkflowProblem]
    }

    public func load(file: String) -> Result {
        do {
            return load(text: try TextFile.read(file), file: file)
        } catch {
            return Result(workflow: nil, problems: [WorkflowProblem(SourceLocation(file: file, line: 1, column: 1),
                                                                    "the workflow file \(error.message)")])
        }
    }

    public func load(text: String, file: String) -> Result {
        let document: YAMLDocument
        do {
            document = try YAMLDocument(text: text, file: file)
        } catch {
            return Result(workflow: nil, problems: [WorkflowProblem(error.location, "invalid YAML: \(error.message)")])
        }
        var problems = workflowSchema.validate(document.value).map { violation in
            WorkflowProblem(document.location(of: violation.path),
                            violation.path.isEmpty ? violation.message : "\(Self.describe(violation.path)): \(violation.message)")
        }
        // Build what can be built; shape problems are already reported above.
        let workflow = build(document, problems: &problems)
        var validator = WorkflowValidator(document: document, catalog: catalog, allowExec: allowExec)
        problems += validator.validate(workflow)
        problems.sort { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) }
        return Result(workflow: problems.isEmpty ? workflow : nil, problems: problems)
    }

    /// `/steps/2/with/text` → `steps[2].with.text`.
    static func describe(_ pointer: String) -> String {
        pointer.split(separator: "/").reduce(into: "") { result, token in
            let key = JSONPointer.unescape(token)
            if Int(key) != nil { result += "[\(key)]" } else { result += result.isEmpty ? key : ".\(key)" }
        }
    }

    private func build(_ document: YAMLDocument, problems: inout [WorkflowProblem]) -> Workflow {
        let root = document.value
        func seconds(_ value: JSONValue?, at pointer: String) -> Double? {
            guard let value else { return nil }
            if let number = value.doubleValue, number >= 0 { return number }
            if let text = value.stringValue, let parsed = parseDuration(text) { return parsed }
            problems.append(WorkflowProblem(document.location(of: pointer),
                                            "\(Self.describe(pointer)): '\(value.interpolated)' is not a duration; write e.g. 30s, 5m, 1h30m or 500ms"))
            return nil
        }

        var inputs: [InputSpec] = []
        for (name, spec) in (root["inputs"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            let kind = spec["type"]?.stringValue.flatMap(InputSpec.Kind.init) ?? .string
            if let value = spec["default"], !kind.accepts(value) {
                let pointer = "/inputs/\(JSONPointer.escape(name))/default"
                problems.append(WorkflowProblem(document.location(of: pointer),
                                                "inputs.\(name): the default \(value.jsonString()) is \(value.typeName), not \(kind.rawValue)"))
            }
            inputs.append(InputSpec(name: name, kind: kind,
                                    defaultValue: spec["default"], required: spec["required"]?.boolValue ?? (spec["default"] == nil),
                                    description: spec["description"]?.stringValue))
        }

        var steps: [Step] = []
        for (index, value) in (root["steps"]?.arrayValue ?? []).enumerated() {
            let pointer = "/steps/\(index)"
            let needs: [String] = value["needs"]?.stringValue.map { [$0] } ?? value["needs"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let condition: String? = value["if"].flatMap { $0.stringValue ?? $0.boolValue.map { $0 ? "true" : "false" } }
            let recovery = (value["recovery"]?.arrayValue ?? []).compactMap { entry in
                entry["uses"]?.stringValue.map { RecoveryEntry(uses: $0, with: entry["with"] ?? .object([:])) }
            }
            var step = Step(
                id: value["id"]?.stringValue ?? "",
                uses: value["uses"]?.stringValue ?? "",
                with: value["with"] ?? .object([:]),
                needs: needs,
                condition: condition,
                timeoutSeconds: seconds(value["timeout"], at: "\(pointer)/timeout"),
                priority: value["priority"]?.stringValue.flatMap(Priority.init) ?? .normal,
                recovery: recovery,
                concurrencyKey: value["concurrency"]?.stringValue,
                cache: seconds(value["cache"]?["ttl"], at: "\(pointer)/cache/ttl").map(CacheSpec.init),
                continueOnError: value["continue_on_error"]?.boolValue ?? false,
                pointer: pointer)
            step.recoveryDeclared = value["recovery"] != nil
            steps.append(step)
        }

        var triggers: [TriggerSpec] = []
        for (index, value) in (root["triggers"]?.arrayValue ?? []).enumerated() {
            if let trigger = TriggerParser.parse(value, at: "/triggers/\(index)", document: document, problems: &problems) {
                triggers.append(trigger)
            }
        }

        let maxActive = root["concurrency"]?["max_active_runs"]?.intValue
        return Workflow(name: root["name"]?.stringValue ?? "", inputs: inputs, triggers: triggers, steps: steps,
                        maxActiveRuns: maxActive, file: document.file)
    }
}
