import TrellisJSON

/// A workflow as its author wrote it: inputs, triggers and a DAG of steps.
public struct Workflow: Sendable, Hashable {
    public var name: String
    public var inputs: [InputSpec]
    public var triggers: [TriggerSpec]
    public var steps: [Step]
    /// Runs of this workflow allowed at once; nil means unlimited.
    public var maxActiveRuns: Int?
    /// The file it was read from.
    public var file: String

    public init(name: String, inputs: [InputSpec] = [], triggers: [TriggerSpec] = [], steps: [Step],
                maxActiveRuns: Int? = nil, file: String = "(inline)") {
        self.name = name
        self.inputs = inputs
        self.triggers = triggers
        self.steps = steps
        self.maxActiveRuns = maxActiveRuns
        self.file = file
    }

    public func step(_ id: String) -> Step? { steps.first { $0.id == id } }
}

/// A declared workflow input.
public struct InputSpec: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case string, number, integer, boolean, object, array

        /// Whether a value is of this kind (an integer is a number too).
        public func accepts(_ value: JSONValue) -> Bool {
            switch self {
            case .string: value.stringValue != nil
            case .number: value.doubleValue != nil
            case .integer: value.typeName == "integer"
            case .boolean: value.boolValue != nil
            case .object: value.objectValue != nil
            case .array: value.arrayValue != nil
            }
        }
    }

    public var name: String
    public var kind: Kind
    public var defaultValue: JSONValue?
    public var required: Bool
    public var description: String?
}

/// How important a step is when several are ready at once.
public enum Priority: String, Sendable, Hashable, CaseIterable, Comparable {
    case critical, high, normal, low, background

    /// Higher runs first.
    public var rank: Int {
        switch self {
        case .critical: 4
        case .high: 3
        case .normal: 2
        case .low: 1
        case .background: 0
        }
    }

    public static func < (lhs: Priority, rhs: Priority) -> Bool { lhs.rank < rhs.rank }
}

/// One entry of a step's recovery pipeline: a recovery plugin and its parameters.
public struct RecoveryEntry: Sendable, Hashable {
    public var uses: String
    public var with: JSONValue

    public init(uses: String, with: JSONValue = .object([:])) {
        self.uses = uses
        self.with = with
    }
}

/// A step's output cache: reuse the output for identical resolved inputs.
public struct CacheSpec: Sendable, Hashable {
    public var ttlSeconds: Double
}

/// One step of a workflow.
public struct Step: Sendable, Hashable {
    public var id: String
    /// A plugin id, or a built-in: `noop`, `sleep`, `exec`.
    public var uses: String
    public var with: JSONValue
    public var needs: [String]
    /// A condition; the step is skipped when it is false.
    public var condition: String?
    public var timeoutSeconds: Double?
    public var priority: Priority
    public var recovery: [RecoveryEntry]
    /// Whether the step wrote `recovery:` (an empty list opts out of the
    /// deployment's defaults).
    public var recoveryDeclared: Bool
    public var concurrencyKey: String?
    public var cache: CacheSpec?
    public var continueOnError: Bool
    /// The JSON Pointer of the step in its file, for error locations.
    public var pointer: String

    public init(id: String, uses: String, with: JSONValue = .object([:]), needs: [String] = [], condition: String? = nil,
                timeoutSeconds: Double? = nil, priority: Priority = .normal, recovery: [RecoveryEntry] = [],
                concurrencyKey: String? = nil, cache: CacheSpec? = nil, continueOnError: Bool = false,
                pointer: String = "") {
        self.id = id
        self.uses = uses
        self.with = with
        self.needs = needs
        self.condition = condition
        self.timeoutSeconds = timeoutSeconds
        self.priority = priority
        self.recovery = recovery
        recoveryDeclared = !recovery.isEmpty
        self.concurrencyKey = concurrencyKey
        self.cache = cache
        self.continueOnError = continueOnError
        self.pointer = pointer
    }

    /// Built-in step kinds that are not plugins.
    public static let builtIns: Set<String> = ["noop", "sleep", "exec", "notify", "ai", "search.index", "search.query"]
    public var isBuiltIn: Bool { Self.builtIns.contains(uses) }
}

extension Workflow {
    /// The workflow with the deployment's default recovery pipelines given to
    /// the steps that declare none, by the kind of the plugin each uses.
    public func withRecoveryDefaults(_ defaults: [String: [RecoveryEntry]], kindOf: (String) -> String?) -> Workflow {
        guard !defaults.isEmpty else { return self }
        var workflow = self
        for index in workflow.steps.indices where !workflow.steps[index].recoveryDeclared {
            if let kind = kindOf(workflow.steps[index].uses), let pipeline = defaults[kind] {
                workflow.steps[index].recovery = pipeline
            }
        }
        return workflow
    }
}
