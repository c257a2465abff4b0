import TrellisJSON

/// The checks that need the whole workflow: ids, dependencies, plugins,
/// inputs against their schemas, and expressions.
struct WorkflowValidator {
    let document: YAMLDocument
    let catalog: any PluginCatalog
    let allowExec: Bool
    private var problems: [WorkflowProblem] = []

    init(document: YAMLDocument, catalog: any PluginCatalog, allowExec: Bool) {
        self.document = document
        self.catalog = catalog
        self.allowExec = allowExec
    }

    private mutating func report(_ pointer: String, _ message: String) {
        problems.append(WorkflowProblem(document.location(of: pointer), message))
    }

    mutating func validate(_ workflow: Workflow) -> [WorkflowProblem] {
        let ids = workflow.steps.map(\.id).filter { !$0.isEmpty }
        let known = Set(ids)
        // The index of each id's first step (a later one with the id is a duplicate).
        var firstAt: [String: Int] = [:]
        firstAt.reserveCapacity(workflow.steps.count)
        for (index, step) in workflow.steps.enumerated() where !step.id.isEmpty {
            if let first = firstAt[step.id] {
                report("\(step.pointer)/id", "duplicate step id '\(step.id)' (first used at line \(document.location(of: workflow.steps[first].pointer).line))")
            } else {
                firstAt[step.id] = index
            }
        }
        for step in workflow.steps {
            for (index, need) in step.needs.enumerated() where firstAt[need] == nil {
                let item = "\(step.pointer)/needs/\(index)"
                report(document.locations[item] != nil ? item : "\(step.pointer)/needs",
                       "'\(step.id)' needs '\(need)', which is not a step" + suggestion(need, ids))
            }
        }
        let dag = DAG(steps: workflow.steps.enumerated().filter { firstAt[$0.element.id] == $0.offset }.map(\.element))
        if let cycle = dag.findCycle(), let first = firstAt[cycle[0]].map({ workflow.steps[$0] }) {
            report("\(first.pointer)/needs", "dependency cycle: \(cycle.joined(separator: " → ")); remove one of these needs")
        }
        let upstream = UpstreamIndex(dag)
        for step in workflow.steps where !step.uses.isEmpty {
            checkUses(step)
            checkExpressions(step, workflow: workflow, upstream: upstream, ids: ids, known: known)
        }
        return problems
    }

    private func suggestion(_ word: String, _ candidates: [String]) -> String {
        closest(to: word, in: candidates).map { " (did you mean '\($0)'?)" } ?? ""
    }

    private mutating func checkUses(_ step: Step) {
        switch step.uses {
        case "noop":
            return
        case "sleep":
            let duration = step.with["duration"]
            if duration?.durationSeconds == nil {
                report("\(step.pointer)/with", "a sleep step needs `with: { duration: 5s }`")
            }
            return
        case "exec":
            if !allowExec {
                report("\(step.pointer)/uses", "exec steps are disabled in this deployment: set `exec: true` in the deployment config to allow running commands")
            }
            if step.with["command"]?.arrayValue?.isEmpty != false && step.with["command"]?.stringValue == nil {
                report("\(step.pointer)/with", "an exec step needs `with: { command: [program, arg, ...] }`")
            }
            return
        case "notify":
            checkSchema(step.with, Self.notifySchema, at: "\(step.pointer)/with")
            for (pointer, text) in step.with.templates(at: "\(step.pointer)/with")
            where ((try? Template(parsing: text))?.expressions ?? []).contains(where: { $0.paths.contains { $0.first == .key("secrets") } }) {
                report(pointer, "a notification's content is kept in the store, so it cannot hold secrets; "
                       + "give the channel the secret in the deployment config instead")
            }
            for problem in catalog.notifyProblems(step.with) {
                report("\(step.pointer)/with\(problem.pointer)", problem.message)
            }
            return
        case "ai":
            checkSchema(step.with, Self.aiSchema, at: "\(step.pointer)/with")
            if step.with["prompt"] == nil, step.with["messages"] == nil {
                report("\(step.pointer)/with", "an ai step needs `prompt` or `messages`")
            }
            let models = [("/model", step.with["model"])]
                + (step.with["ensemble"]?["models"]?.arrayValue ?? []).enumerated().map { ("/ensemble/models/\($0.offset)", $0.element) }
                + [("/ensemble/judge", step.with["ensemble"]?["judge"])]
            for (pointer, value) in models {
                guard let model = value?.stringValue, (try? Template(parsing: model))?.expressions.isEmpty != false,
                      let problem = catalog.modelProblem(model) else { continue }
                report("\(step.pointer)/with\(pointer)", problem)
            }
            if let schema = step.with["schema"], schema.objectValue != nil {
                do {
                    _ = try JSONSchema(schema)
                } catch {
                    report("\(step.pointer)/with/schema", "the schema is not usable: \(error)")
                }
            }
            return
        case "search.index", "search.query":
            checkSchema(step.with, step.uses == "search.index" ? Self.searchIndexSchema : Self.searchQuerySchema, at: "\(step.pointer)/with")
            if let index = step.with["index"]?.stringValue, (try? Template(parsing: index))?.expressions.isEmpty != false,
               let problem = catalog.searchIndexProblem(index) {
                report("\(step.pointer)/with/index", problem)
            }
            return
        default:
            break
        }
        guard let entry = catalog.entry(for: step.uses) else {
            report("\(step.pointer)/uses", "unknown plugin '\(step.uses)'" + suggestion(step.uses, catalog.knownIDs + Array(Step.builtIns)))
            return
        }
        guard entry.available else {
            report("\(step.pointer)/uses", "plugin '\(step.uses)' is not available: \(entry.unavailableReason ?? "it did not load")")
            return
        }
        if entry.kind == "recovery" || entry.kind == "analyzer" {
            report("\(step.pointer)/uses", "'\(step.uses)' is a \(entry.kind) plugin; a step uses a channel or a provider (recovery plugins go under `recovery:`)")
        }
        checkSchema(step.with, entry.inputSchema, at: "\(step.pointer)/with")
        for (index, recovery) in step.recovery.enumerated() {
            for problem in recoveryEntryProblems(recovery, catalog: catalog, at: "\(step.pointer)/recovery/\(index)") {
                report(problem.pointer, problem.message)
            }
        }
    }

    /// `uses: search.index`: documents (usually an upstream step's output) into a named index.
    static let searchIndexSchema: JSONSchema = {
        let root: JSONValue = [
            "type": "object", "additionalProperties": false, "required": ["index", "documents"],
            "properties": [
                "index": ["type": "string", "minLength": 1],
                "documents": ["oneOf": [["type": "array", "maxItems": 100_000, "items": ["type": "object"]], ["type": "object"], ["type": "string"]]],
                "delete": ["type": "array", "items": ["type": ["string", "integer"]]],
            ],
        ]
        return try! JSONSchema(root)
    }()

    /// `uses: search.query`: a query with its filters, facets, sorting and page.
    static let searchQuerySchema: JSONSchema = {
        let root: JSONValue = [
            "type": "object", "additionalProperties": false, "required": ["index", "query"],
            "properties": [
                "index": ["type": "string", "minLength": 1],
                "query": ["type": "string", "maxLength": 4096],
                "limit": ["type": ["integer", "string"]],
                "offset": ["type": ["integer", "string"]],
                "operator": ["enum": ["and", "or"]],
                "fields": ["type": "array", "items": ["type": "string"]],
                "filters": ["type": "object"],
                "ranges": ["type": "object", "additionalProperties": [
                    "type": "object", "additionalProperties": false,
                    "properties": ["gte": [:], "gt": [:], "lte": [:], "lt": [:]],
                ]],
                "facets": ["type": "array", "items": ["type": "string"]],
                "sort": ["type": "array", "items": ["type": "string"]],
                "highlight": ["type": "boolean"],
            ],
        ]
        return try! JSONSchema(root)
    }()

    /// The shape of a `uses: notify` step's `with:`.
    static let notifySchema: JSONSchema = {
        let root: JSONValue = [
            "type": "object",
            "additionalProperties": false,
            "required": ["to", "template"],
            "properties": [
                "to": ["oneOf": [["type": "string", "minLength": 1],
                                 ["type": "array", "minItems": 1, "items": ["type": "string", "minLength": 1]]]],
                "template": ["type": "string", "minLength": 1],
                "vars": ["type": "object"],
                "priority": ["enum": ["low", "normal", "high", "critical"]],
                "digest_key": ["type": "string", "minLength": 1],
                "digest_window": ["type": ["string", "number"]],
            ],
        ]
        // The schema is a constant written above; it is valid by construction.
        return try! JSONSchema(root)
    }()

    /// Checks a value against a schema; values still holding `${{ }}` are
    /// only known at run time, so problems at them are left for then.
    private mutating func checkSchema(_ value: JSONValue, _ schema: JSONSchema?, at pointer: String) {
        guard let schema else { return }
        let templated = value.templates().map(\.pointer)
        for violation in schema.validate(value)
        where !templated.contains(where: { violation.path == $0 || violation.path.hasPrefix($0 + "/") }) {
            report(pointer + violation.path,
                   "\(WorkflowLoader.describe(pointer + violation.path)): \(violation.message)")
        }
    }

    private mutating func checkExpressions(_ step: Step, workflow: Workflow, upstream: UpstreamIndex?, ids: [String],
                                           known: Set<String>) {
        var expressions: [(String, Expression)] = []
        for (pointer, text) in step.with.templates(at: "\(step.pointer)/with") {
            do {
                expressions += try Template(parsing: text).expressions.map { (pointer, $0) }
            } catch {
                report(pointer, "invalid expression: \(error.message)")
            }
        }
        if let condition = step.condition {
            let pointer = "\(step.pointer)/if"
            do {
                if Template.hasExpressionMarker(condition) {
                    expressions += try Template(parsing: condition).expressions.map { (pointer, $0) }
                } else {
                    expressions.append((pointer, try Expression.parse(condition)))
                }
            } catch {
                report(pointer, "invalid condition: \(error.message)")
            }
        }
        guard !expressions.isEmpty else { return }
        let inputs = workflow.inputs.map(\.name)
        for (pointer, expression) in expressions {
            for id in Set(expression.referencedSteps).sorted() {
                if !known.contains(id) {
                    report(pointer, "refers to steps.\(id), which is not a step" + suggestion(id, ids))
                } else if let upstream, !upstream.isUpstream(id, of: step.id) {
                    report(pointer, "refers to steps.\(id), which is not upstream of '\(step.id)': add '\(id)' to its needs")
                }
            }
            for path in expression.paths where path.first == .key("secrets") {
                guard let secrets = catalog.secretNames, path.count >= 2, case .key(let name) = path[1] else { continue }
                if let problem = catalog.secretProblem(name) {
                    report(pointer, "refers to secrets.\(name), which cannot be resolved here: \(problem)")
                } else if !secrets.contains(name) {
                    let known = secrets.sorted()
                    report(pointer, "refers to secrets.\(name), which the deployment config does not define"
                           + (closest(to: name, in: known).map { " (did you mean '\($0)'?)" }
                              ?? "; define it under `secrets:` in the deployment config"))
                }
            }
            for path in expression.paths where path.first == .key("inputs") {
                guard path.count >= 2, case .key(let name) = path[1] else { continue }
                if !inputs.contains(name) {
                    report(pointer, "refers to inputs.\(name), which the workflow does not declare" + suggestion(name, inputs))
                }
            }
        }
    }
}

/// What is wrong with one recovery entry (a step's, or a deployment
/// default's): an unknown or unavailable plugin, one that is not a recovery
/// strategy, or parameters its input schema refuses. Pointers are under `pointer`.
public func recoveryEntryProblems(_ entry: RecoveryEntry, catalog: any PluginCatalog,
                                  at pointer: String) -> [(pointer: String, message: String)] {
    guard let strategy = catalog.entry(for: entry.uses) else {
        let hint = closest(to: entry.uses, in: catalog.knownIDs).map { " (did you mean '\($0)'?)" } ?? ""
        return [("\(pointer)/uses", "unknown recovery plugin '\(entry.uses)'" + hint)]
    }
    if !strategy.available {
        return [("\(pointer)/uses", "plugin '\(entry.uses)' is not available: \(strategy.unavailableReason ?? "it did not load")")]
    }
    if strategy.kind != "recovery" {
        return [("\(pointer)/uses", "'\(entry.uses)' is a \(strategy.kind) plugin, not a recovery strategy")]
    }
    guard let schema = strategy.inputSchema else { return [] }
    // Values still holding `${{ }}` are only known at run time.
    let templated = entry.with.templates().map(\.pointer)
    return schema.validate(entry.with)
        .filter { violation in !templated.contains { violation.path == $0 || violation.path.hasPrefix($0 + "/") } }
        .map { ("\(pointer)/with\($0.path)", "\(WorkflowLoader.describe("\(pointer)/with\($0.path)")): \($0.message)") }
}
