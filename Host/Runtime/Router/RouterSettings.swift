import TrellisCore
import TrellisPluginHost
import TrellisStore

/// The deployment config's `models:` section: model groups (an alias and
/// its deployments), the response cache and budgets.
///
/// ```yaml
/// models:
///   groups:
///     fast:
///       strategy: ordered            # weighted, least-busy, lowest-latency, cheapest
///       deployments:
///         - { plugin: provider.openai, model: gpt-4o-mini, rpm: 500, price: { input: 0.15, output: 0.6 } }
///         - { plugin: provider.anthropic, model: claude-3-5-haiku-latest, context_window: 200000 }
///       fallbacks: { context_length: big, content_policy: other, any: [smart] }
///       cooldown: { failures: 3, window: 60s, duration: 30s }
///       wait_for_cooldown: 5s
///       stream: { idle_timeout: 15s, on_failure: continue }   # or restart
///       recovery: [{ uses: recovery.retry, with: { max_attempts: 2 } }]
///   cache: { max_bytes: 16777216, ttl: 1h, semantic: { embedding: provider.openai/text-embedding-3-small, threshold: 0.95 } }
///   budgets:
///     - { scope: all, period: day, max_cost: 20 }
///     - { scope: workflow, name: nightly, period: month, max_tokens: 2000000 }
/// ```
public struct RouterSettings: Sendable {
    public var groups: [String: ModelGroup] = [:]
    public var cache: CacheSettings?
    public var budgets: [Budget] = []

    public init() {}

    public struct CacheSettings: Sendable, Equatable {
        public var maxBytes: Int
        public var ttlSeconds: Double
        public var semantic: SemanticCacheSettings?
    }

    /// A cache keyed by the meaning of the prompt: an embedding of it, and
    /// the answer of the most similar earlier prompt when its cosine
    /// similarity reaches the threshold.
    public struct SemanticCacheSettings: Sendable, Equatable {
        /// The embedding provider and model: `provider.openai/text-embedding-3-small`.
        public var plugin: String
        public var model: String
        public var threshold: Double
        public var maxEntries: Int
    }

    /// A limit on spending, checked before a request is sent.
    public struct Budget: Sendable, Equatable {
        public enum Period: String, Sendable { case day, month, total }
        public var scope: ModelUsage.Scope
        public var period: Period
        public var maxCost: Double?
        public var maxTokens: Int?
        /// Where it was written, for messages.
        public var place: String
    }

    /// A model named as a provider plugin and, optionally, its model:
    /// `provider.openai` or `provider.openai@azure/gpt-4o` (nil: not of that form).
    public static func directProvider(_ model: String) -> (plugin: String, model: String)? {
        guard model.hasPrefix("provider.") else { return nil }
        guard let slash = model.firstIndex(of: "/") else { return (model, "") }
        return (String(model[..<slash]), String(model[model.index(after: slash)...]))
    }

    /// Reads the section; every problem is reported with its place in the file.
    public static func parse(_ configuration: DeploymentConfiguration) throws(DeploymentConfigurationError) -> RouterSettings {
        guard let root = configuration.models else { return RouterSettings() }
        let file = configuration.file ?? "(deployment config)"
        func place(_ pointer: String) -> String { configuration.location(of: "/models" + pointer) }
        let violations = schema.validate(root)
        guard violations.isEmpty else {
            throw DeploymentConfigurationError(
                file: file, problems: violations.map { "\(place($0.path)): models\($0.path): \($0.message)" },
                remedy: "See docs/providers.md for the models section")
        }
        var settings = RouterSettings()
        var problems: [String] = []
        func seconds(_ value: JSONValue?, _ pointer: String, default fallback: Double) -> Double {
            guard let value else { return fallback }
            guard let seconds = value.durationSeconds, seconds >= 0 else {
                problems.append("\(place(pointer)): '\(value.interpolated)' is not a duration (e.g. 30s, 5m)")
                return fallback
            }
            return seconds
        }
        for (alias, config) in (root["groups"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            let pointer = "/groups/" + YAMLDocument.escape(alias)
            var group = ModelGroup(alias: alias)
            group.strategy = config["strategy"]?.stringValue.flatMap(ModelGroup.Strategy.init(rawValue:)) ?? .ordered
            var names: Set<String> = []
            for (index, entry) in (config["deployments"]?.arrayValue ?? []).enumerated() {
                let plugin = entry["plugin"]?.stringValue ?? ""
                let model = entry["model"]?.stringValue ?? ""
                let deployment = ModelDeployment(
                    name: entry["name"]?.stringValue ?? "\(plugin)/\(model)", plugin: plugin, model: model,
                    weight: entry["weight"]?.doubleValue ?? 1, rpm: entry["rpm"]?.intValue,
                    tpm: entry["tpm"]?.intValue,
                    inputPrice: entry["price"]?["input"]?.doubleValue ?? 0, outputPrice: entry["price"]?["output"]?.doubleValue ?? 0,
                    contextWindow: entry["context_window"]?.intValue)
                if !names.insert(deployment.name).inserted {
                    problems.append("\(place(pointer + "/deployments/\(index)")): two deployments are named '\(deployment.name)'; "
                                    + "give one a `name`")
                }
                group.deployments.append(deployment)
            }
            for (reason, target) in config["fallbacks"]?.objectValue ?? [:] {
                let targets = target.stringValue.map { [$0] } ?? target.arrayValue?.compactMap(\.stringValue) ?? []
                group.fallbacks[reason] = targets
            }
            if let cooldown = config["cooldown"] {
                group.cooldown.failures = cooldown["failures"]?.intValue ?? group.cooldown.failures
                group.cooldown.windowSeconds = seconds(cooldown["window"], pointer + "/cooldown/window",
                                                       default: group.cooldown.windowSeconds)
                group.cooldown.durationSeconds = seconds(cooldown["duration"], pointer + "/cooldown/duration",
                                                         default: group.cooldown.durationSeconds)
            }
            group.maxCooldownWaitSeconds = seconds(config["wait_for_cooldown"], pointer + "/wait_for_cooldown",
                                                   default: group.maxCooldownWaitSeconds)
            group.timeoutSeconds = config["timeout"].map { seconds($0, pointer + "/timeout", default: 0) }
            if let stream = config["stream"] {
                group.idleTimeoutSeconds = seconds(stream["idle_timeout"], pointer + "/stream/idle_timeout",
                                                   default: group.idleTimeoutSeconds)
                if stream["on_failure"]?.stringValue == "restart" { group.onStreamFailure = .restart }
            }
            group.recovery = (config["recovery"]?.arrayValue ?? []).compactMap { entry in
                entry["uses"]?.stringValue.map { RecoveryEntry(uses: $0, with: entry["with"] ?? .object([:])) }
            }
            settings.groups[alias] = group
        }
        for (alias, group) in settings.groups {
            for (reason, targets) in group.fallbacks {
                for target in targets where settings.groups[target] == nil {
                    problems.append("\(place("/groups/\(YAMLDocument.escape(alias))/fallbacks/\(YAMLDocument.escape(reason))")): "
                                    + "no model group is named '\(target)'")
                }
            }
        }
        if let cache = root["cache"], cache["enabled"]?.boolValue != false {
            var semantic: SemanticCacheSettings?
            // The schema's pattern makes it a provider, with or without a model.
            if let config = cache["semantic"], let embedding = config["embedding"]?.stringValue.flatMap(Self.directProvider) {
                semantic = SemanticCacheSettings(
                    plugin: embedding.plugin, model: embedding.model,
                    threshold: config["threshold"]?.doubleValue ?? 0.95,
                    maxEntries: config["max_entries"]?.intValue ?? 1000)
            }
            settings.cache = CacheSettings(maxBytes: cache["max_bytes"]?.intValue ?? 16 << 20,
                                           ttlSeconds: seconds(cache["ttl"], "/cache/ttl", default: 3600), semantic: semantic)
        }
        for (index, entry) in (root["budgets"]?.arrayValue ?? []).enumerated() {
            let pointer = "/budgets/\(index)"
            let name = entry["name"]?.stringValue
            let scope: ModelUsage.Scope
            switch entry["scope"]?.stringValue ?? "all" {
            case "alias": scope = .alias(name ?? "")
            case "deployment": scope = .deployment(name ?? "")
            case "workflow": scope = .workflow(name ?? "")
            default: scope = .all
            }
            if scope != .all, name == nil {
                problems.append("\(place(pointer)): a budget scoped to one \(entry["scope"]?.stringValue ?? "") needs its `name`")
            }
            let budget = Budget(scope: scope, period: Budget.Period(rawValue: entry["period"]?.stringValue ?? "day") ?? .day,
                                maxCost: entry["max_cost"]?.doubleValue, maxTokens: entry["max_tokens"]?.intValue,
                                place: place(pointer))
            if budget.maxCost == nil, budget.maxTokens == nil {
                problems.append("\(place(pointer)): give max_cost or max_tokens")
            }
            settings.budgets.append(budget)
        }
        guard problems.isEmpty else {
            throw DeploymentConfigurationError(file: file, problems: problems.sorted(), remedy: "See docs/providers.md")
        }
        return settings
    }

    static let schema: JSONSchema = {
        let duration: JSONValue = ["type": ["string", "number"]]
        let deployment: JSONValue = [
            "type": "object", "additionalProperties": false, "required": ["plugin", "model"],
            "properties": [
                "name": ["type": "string", "minLength": 1],
                "plugin": ["type": "string", "pattern": "^provider\\.[a-z0-9][a-z0-9-]*(@[a-z0-9_-]+)?$"],
                "model": ["type": "string", "minLength": 1],
                "weight": ["type": "number", "exclusiveMinimum": 0],
                "rpm": ["type": "integer", "minimum": 1],
                "tpm": ["type": "integer", "minimum": 1],
                "price": ["type": "object", "additionalProperties": false, "properties": [
                    "input": ["type": "number", "minimum": 0], "output": ["type": "number", "minimum": 0]]],
                "context_window": ["type": "integer", "minimum": 1],
            ],
        ]
        let targets: JSONValue = ["anyOf": [["type": "string", "minLength": 1], ["type": "array", "items": ["type": "string"]]]]
        let group: JSONValue = [
            "type": "object", "additionalProperties": false, "required": ["deployments"],
            "properties": [
                "strategy": ["enum": .array(ModelGroup.Strategy.allCases.map { .string($0.rawValue) })],
                "deployments": ["type": "array", "minItems": 1, "items": deployment],
                "fallbacks": ["type": "object", "additionalProperties": false, "properties": [
                    "context_length": targets, "content_policy": targets, "any": targets]],
                "cooldown": ["type": "object", "additionalProperties": false, "properties": [
                    "failures": ["type": "integer", "minimum": 1], "window": duration, "duration": duration]],
                "wait_for_cooldown": duration,
                "timeout": duration,
                "stream": ["type": "object", "additionalProperties": false, "properties": [
                    "idle_timeout": duration, "on_failure": ["enum": ["continue", "restart"]]]],
                "recovery": ["type": "array", "items": [
                    "type": "object", "additionalProperties": false, "required": ["uses"],
                    "properties": ["uses": ["type": "string", "minLength": 1], "with": ["type": "object"]]]],
            ],
        ]
        let root: JSONValue = [
            "type": "object", "additionalProperties": false,
            "properties": [
                "groups": ["type": "object", "additionalProperties": group],
                "cache": ["type": "object", "additionalProperties": false, "properties": [
                    "enabled": ["type": "boolean"], "max_bytes": ["type": "integer", "minimum": 1], "ttl": duration,
                    "semantic": ["type": "object", "additionalProperties": false, "required": ["embedding"], "properties": [
                        "embedding": ["type": "string", "pattern": "^provider\\.[a-z0-9][a-z0-9-]*(@[a-z0-9_-]+)?(/.+)?$"],
                        "threshold": ["type": "number", "exclusiveMinimum": 0, "maximum": 1],
                        "max_entries": ["type": "integer", "minimum": 1]]],
                ]],
                "budgets": ["type": "array", "items": [
                    "type": "object", "additionalProperties": false,
                    "properties": [
                        "scope": ["enum": ["all", "alias", "deployment", "workflow"]],
                        "name": ["type": "string", "minLength": 1],
                        "period": ["enum": ["day", "month", "total"]],
                        "max_cost": ["type": "number", "minimum": 0],
                        "max_tokens": ["type": "integer", "minimum": 0],
                    ]]],
            ],
        ]
        // A constant written above; valid by construction.
        return try! JSONSchema(root)
    }()
}

/// An alias (`fast`) and the deployments that serve it.
public struct ModelGroup: Sendable {
    public enum Strategy: String, Sendable, CaseIterable {
        /// As written: the first that is not cooling.
        case ordered
        /// A shuffle by weight on each request.
        case weighted
        /// The deployment with the fewest requests in flight.
        case leastBusy = "least-busy"
        /// The lowest moving average of latency (unmeasured ones first).
        case lowestLatency = "lowest-latency"
        /// The lowest price for the request's estimated tokens.
        case cheapest
    }

    /// What a stream that breaks mid-answer does on the next deployment.
    public enum StreamFailure: String, Sendable {
        /// The next deployment is asked to go on from the partial answer.
        case `continue`
        /// The partial answer is discarded and the next deployment starts over.
        case restart
    }

    public struct Cooldown: Sendable, Equatable {
        /// Failures within `windowSeconds` that start a cooldown.
        public var failures = 3
        public var windowSeconds: Double = 60
        public var durationSeconds: Double = 30
    }

    public var alias: String
    public var strategy: Strategy = .ordered
    public var deployments: [ModelDeployment] = []
    /// Groups to move to, by error reason (`context_length`,
    /// `content_policy`) or `any`, when this group's deployments are spent.
    public var fallbacks: [String: [String]] = [:]
    public var cooldown = Cooldown()
    /// How long a request waits when every deployment is cooling.
    public var maxCooldownWaitSeconds: Double = 5
    /// The whole request's limit, across deployments (nil: the caller's deadline).
    public var timeoutSeconds: Double?
    /// A stream with nothing new for this long is taken as broken.
    public var idleTimeoutSeconds: Double = 30
    public var onStreamFailure: StreamFailure = .continue
    /// Recovery strategies around each deployment's attempt (key: the deployment's name).
    public var recovery: [RecoveryEntry] = []

    public init(alias: String) { self.alias = alias }
}

/// One model behind a provider plugin.
public struct ModelDeployment: Sendable, Hashable {
    /// Unique in its group: `plugin/model` unless the config names it.
    public var name: String
    public var plugin: String
    public var model: String
    public var weight: Double = 1
    public var rpm: Int?
    public var tpm: Int?
    /// Price per million input and output tokens.
    public var inputPrice: Double = 0
    public var outputPrice: Double = 0
    public var contextWindow: Int?

    /// What `usage` costs on this deployment.
    public func cost(inputTokens: Int, outputTokens: Int) -> Double {
        (Double(inputTokens) * inputPrice + Double(outputTokens) * outputPrice) / 1_000_000
    }
}
