import Foundation
import TrellisCore

/// An admin's deployment config: where plugins and their manifests live,
/// which plugins are enabled, and each one's config and secrets.
///
/// ```yaml
/// plugin_paths: [/opt/trellis/plugins]   # default: next to the trellis binary
/// registry: [/opt/trellis/registry]      # default: <first plugin path>/registry
/// exec: false                            # allow `uses: exec` steps
/// store: /var/lib/trellis/trellis.db     # default: .trellis/trellis.db next to this file
/// runtime: { max_concurrent_steps: 16, drain_grace: 10s, lease: 15s }
/// secrets: { GITHUB_TOKEN: "${env:GITHUB_TOKEN}" }   # for ${{ secrets.NAME }}
/// plugins:
///   provider.openai@azure-eu:            # a second instance of a plugin, with its own settings
///     config: { base_url: "https://eu.example.com/openai/deployments/gpt4o" }
///   channel.stdout:
///     version: "^1.0"                    # optional version range
///     config: { path: /var/log/trellis/notifications.jsonl }
///   channel.slack:
///     enabled: false                     # listed, but never opened
///     secrets: { token: "${env:SLACK_TOKEN}" }
/// ```
public struct DeploymentConfiguration: Sendable {
    public struct PluginSettings: Sendable {
        public var id: String
        /// A disabled plugin is never opened.
        public var enabled = true
        /// A required plugin that fails to load fails the host's start.
        public var required = true
        public var version: VersionRange?
        /// An explicit library path instead of the manifest's file name.
        public var path: String?
        /// The plugin's config; strings may hold secret references.
        public var config: JSONValue = .object([:])
        /// Secrets the plugin may look up by name: name → reference.
        public var secrets: [String: String] = [:]
        /// How many of this plugin's calls may run at once (nil: no own limit).
        public var pool: Int?
        /// Hosts the plugin may reach (narrows its manifest's `permissions.egress`).
        public var egress: [String]?
        /// Where the plugin's `config:` was written, for error messages.
        public var configPointer: String
        /// Loads without a signature where the deployment requires one (local development).
        public var allowUnsigned = false
    }

    /// The file it was read from, if any.
    public var file: String?
    /// Whether workflows may run commands with `uses: exec`.
    public var allowExec = false
    /// The store's SQLite file.
    public var storePath: String
    /// Steps running at once across all runs.
    public var maxConcurrentSteps = 16
    /// How long in-flight steps may finish when the host stops.
    public var drainGraceSeconds: Double = 10
    /// How long a run's lease lasts without renewal (`runtime.lease`).
    public var leaseSeconds: Double = 15
    /// Secrets workflows read as `${{ secrets.NAME }}`: name → reference.
    public var workflowSecrets: [String: String] = [:]
    /// The host's HTTP client (also used for mail).
    public var http = HTTPSettings()
    /// Recovery pipelines for steps that declare none, by the kind of the
    /// plugin the step uses (`channel`, `provider`); outermost first.
    public var recoveryDefaults: [String: [RecoveryEntry]] = [:]
    /// Which plugin publishers the deployment trusts (`trust:`).
    public var trust = TrustSettings()
    /// The `notifications:` section, read by the notification service.
    public var notifications: JSONValue?
    /// The `models:` section (model groups, cache, budgets), read by the model router.
    public var models: JSONValue?
    /// Where the search indexes live (`search.path`; default: `search` beside the store).
    public var searchPath: String?
    /// Whether run history and notification deliveries are indexed for search (`search.index_runs`, default true).
    public var indexRuns = true

    /// The search indexes' folder.
    public var searchDirectory: String {
        searchPath ?? URL(fileURLWithPath: storePath).deletingLastPathComponent().appendingPathComponent("search").path
    }
    public var pluginPaths: [String]
    public var registryPaths: [String]
    public var plugins: [String: PluginSettings]
    /// The parsed document, for pointing errors at lines.
    public var document: YAMLDocument?

    public init(file: String? = nil, pluginPaths: [String], registryPaths: [String],
                plugins: [String: PluginSettings] = [:], storePath: String? = nil) {
        self.file = file
        self.pluginPaths = pluginPaths
        self.registryPaths = registryPaths
        self.plugins = plugins
        self.storePath = storePath ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            .appendingPathComponent(".trellis/trellis.db").path
    }

    /// Where the value at a JSON Pointer into the file was written.
    public func location(of pointer: String) -> String {
        document.map { $0.location(of: pointer).description } ?? (file ?? "(deployment config)")
    }

    /// Reads a deployment config file. Relative paths in it are relative to
    /// the file. `defaultPluginPaths` apply when it sets none.
    public static func load(file: String, defaultPluginPaths: [String]) throws(DeploymentConfigurationError) -> DeploymentConfiguration {
        let text: String
        do {
            text = try TextFile.read(file)
        } catch {
            throw DeploymentConfigurationError(
                file: file, problems: ["it \(error.message)"],
                remedy: "Create it (see docs/admin.md), or pass another with --config or TRELLIS_CONFIG")
        }
        return try parse(text: text, file: file, defaultPluginPaths: defaultPluginPaths)
    }

    public static func parse(text: String, file: String,
                             defaultPluginPaths: [String]) throws(DeploymentConfigurationError) -> DeploymentConfiguration {
        let document: YAMLDocument
        do {
            document = try YAMLDocument(text: text, file: file)
        } catch {
            throw DeploymentConfigurationError(file: file, problems: [error.description],
                                               remedy: "Fix the YAML syntax at that line")
        }
        var root = document.value == .null ? JSONValue.object([:]) : document.value
        // `plugins: {channel.stdout: }` enables a plugin with its defaults.
        if case .object(var object) = root, case .object(let entries)? = object["plugins"] {
            object["plugins"] = .object(entries.mapValues { $0 == .null ? .object([:]) : $0 })
            root = .object(object)
        }
        let violations = deploymentSchema.validate(root)
        guard violations.isEmpty else {
            throw DeploymentConfigurationError(
                file: file,
                problems: violations.map { "\(document.location(of: $0.path)): \($0.path.isEmpty ? "" : "\($0.path): ")\($0.message)" },
                remedy: "See docs/admin.md for the deployment config's fields")
        }
        let base = URL(fileURLWithPath: file).deletingLastPathComponent()
        func absolute(_ path: String) -> String {
            path.hasPrefix("/") ? path : base.appendingPathComponent(path).standardizedFileURL.path
        }
        let pluginPaths = root["plugin_paths"]?.arrayValue?.compactMap(\.stringValue).map(absolute) ?? defaultPluginPaths
        let registryPaths = root["registry"]?.arrayValue?.compactMap(\.stringValue).map(absolute)
            ?? pluginPaths.prefix(1).map { URL(fileURLWithPath: $0).appendingPathComponent("registry").path }

        var plugins: [String: PluginSettings] = [:]
        var problems: [String] = []
        for (id, entry) in root["plugins"]?.objectValue ?? [:] {
            let pointer = "/plugins/\(YAMLDocument.escape(id))"
            guard PluginInstanceName.isValid(id) else {
                problems.append("\(document.location(of: pointer)): '\(id)' is not a plugin id: write kind.name (channel.slack), "
                                + "or kind.name@instance (provider.openai@azure-eu) for another instance of a plugin")
                continue
            }
            var settings = PluginSettings(id: id, configPointer: pointer + "/config")
            settings.enabled = entry["enabled"]?.boolValue ?? true
            settings.required = entry["required"]?.boolValue ?? true
            settings.path = entry["path"]?.stringValue.map(absolute)
            settings.config = entry["config"] ?? .object([:])
            settings.secrets = (entry["secrets"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
            settings.pool = entry["pool"]?.intValue
            settings.egress = entry["egress"]?.arrayValue?.compactMap(\.stringValue)
            settings.allowUnsigned = entry["allow_unsigned"]?.boolValue ?? false
            for (index, host) in (settings.egress ?? []).enumerated() {
                if let problem = EgressPolicy.entryProblem(host) {
                    problems.append("\(document.location(of: pointer + "/egress/\(index)")): egress entry '\(host)' \(problem)")
                }
            }
            if let range = entry["version"]?.stringValue {
                do {
                    settings.version = try VersionRange(range)
                } catch {
                    problems.append("\(document.location(of: pointer + "/version")): \(error)")
                }
            }
            plugins[id] = settings
        }
        guard problems.isEmpty else {
            throw DeploymentConfigurationError(file: file, problems: problems, remedy: "See docs/admin.md")
        }
        var configuration = DeploymentConfiguration(
            file: file, pluginPaths: pluginPaths, registryPaths: registryPaths, plugins: plugins,
            storePath: absolute(root["store"]?.stringValue ?? ".trellis/trellis.db"))
        configuration.allowExec = root["exec"]?.boolValue ?? false
        configuration.workflowSecrets = (root["secrets"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        if let runtime = root["runtime"] {
            configuration.maxConcurrentSteps = runtime["max_concurrent_steps"]?.intValue ?? 16
            for (key, keyPath) in [("drain_grace", \DeploymentConfiguration.drainGraceSeconds),
                                   ("lease", \DeploymentConfiguration.leaseSeconds)] {
                guard let value = runtime[key] else { continue }
                guard let seconds = value.durationSeconds, seconds > 0 || key == "drain_grace" else {
                    throw DeploymentConfigurationError(
                        file: file, problems: ["\(document.location(of: "/runtime/\(key)")): '\(value.interpolated)' is not a duration"],
                        remedy: "Write e.g. 10s or 1m")
                }
                configuration[keyPath: keyPath] = seconds
            }
        }
        if let http = root["http"] {
            for (key, keyPath) in [("connect_timeout", \HTTPSettings.connectTimeoutSeconds), ("timeout", \HTTPSettings.timeoutSeconds)] {
                guard let value = http[key] else { continue }
                guard let seconds = value.durationSeconds, seconds > 0 else {
                    throw DeploymentConfigurationError(
                        file: file, problems: ["\(document.location(of: "/http/\(key)")): '\(value.interpolated)' is not a duration"],
                        remedy: "Write e.g. 10s or 1m")
                }
                configuration.http[keyPath: keyPath] = seconds
            }
            if let bytes = http["max_request_bytes"]?.doubleValue { configuration.http.maxRequestBytes = Int(bytes) }
            if let bytes = http["max_response_bytes"]?.doubleValue { configuration.http.maxResponseBytes = Int(bytes) }
            if let path = http["ca_file"]?.stringValue {
                let file = absolute(path)
                guard FileManager.default.isReadableFile(atPath: file) else {
                    throw DeploymentConfigurationError(
                        file: file, problems: ["\(document.location(of: "/http/ca_file")): http.ca_file \(file) does not exist or cannot be read"],
                        remedy: "Give the path of a PEM file of the CA certificates to trust, or remove http.ca_file to use the system's")
                }
                configuration.http.caFile = file
            }
            if let agent = http["user_agent"]?.stringValue { configuration.http.userAgent = agent }
        }
        for (kind, entries) in root["recovery_defaults"]?.objectValue ?? [:] {
            configuration.recoveryDefaults[kind] = (entries.arrayValue ?? []).compactMap { entry in
                entry["uses"]?.stringValue.map { RecoveryEntry(uses: $0, with: entry["with"] ?? .object([:])) }
            }
        }
        configuration.notifications = root["notifications"]
        if let trust = root["trust"] {
            for (name, key) in trust["publishers"]?.objectValue ?? [:] {
                guard let text = key.stringValue, PluginSignature.publicKey(text) != nil else {
                    throw DeploymentConfigurationError(
                        file: file, problems: ["\(document.location(of: "/trust/publishers/\(YAMLDocument.escape(name))")): "
                                               + "'\(key.interpolated)' is not an Ed25519 public key (ed25519:BASE64)"],
                        remedy: "Copy the publisher's key as `trellis keys generate` prints it")
                }
                configuration.trust.publishers[name] = text
            }
            configuration.trust.revoked = Set((trust["revoked"]?.arrayValue ?? []).compactMap(\.stringValue))
        }
        configuration.models = root["models"]
        if let search = root["search"] {
            configuration.searchPath = search["path"]?.stringValue.map(absolute)
            configuration.indexRuns = search["index_runs"]?.boolValue ?? true
        }
        configuration.document = document
        return configuration
    }
}

public struct DeploymentConfigurationError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var problems: [String]
    public var remedy: String

    public init(file: String, problems: [String], remedy: String) {
        self.file = file
        self.problems = problems
        self.remedy = remedy
    }

    public var description: String {
        "the deployment config \(file) is not valid:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
            + "\n\(remedy)."
    }
}

/// The shape of a deployment config file.
let deploymentSchema: JSONSchema = {
    let stringList: JSONValue = ["type": "array", "items": ["type": "string", "minLength": 1]]
    let plugin: JSONValue = [
        "type": "object",
        "additionalProperties": false,
        "properties": [
            "enabled": ["type": "boolean"],
            "required": ["type": "boolean"],
            "version": ["type": "string", "minLength": 1],
            "path": ["type": "string", "minLength": 1],
            "config": ["type": "object"],
            "secrets": ["type": "object", "additionalProperties": ["type": "string"]],
            "pool": ["type": "integer", "minimum": 1],
            "egress": stringList,
            "allow_unsigned": ["type": "boolean"],
        ],
    ]
    let pipeline: JSONValue = [
        "type": "array",
        "items": [
            "type": "object",
            "additionalProperties": false,
            "required": ["uses"],
            "properties": ["uses": ["type": "string", "minLength": 1], "with": ["type": "object"]],
        ],
    ]
    let root: JSONValue = [
        "type": "object",
        "additionalProperties": false,
        "properties": [
            "plugin_paths": stringList,
            "registry": stringList,
            "exec": ["type": "boolean"],
            "store": ["type": "string", "minLength": 1],
            "secrets": ["type": "object", "additionalProperties": ["type": "string"]],
            "runtime": ["type": "object", "additionalProperties": false, "properties": [
                "max_concurrent_steps": ["type": "integer", "minimum": 1],
                "drain_grace": ["type": ["string", "number"]],
                "lease": ["type": ["string", "number"]],
            ]],
            "plugins": ["type": "object", "additionalProperties": plugin],
            "http": ["type": "object", "additionalProperties": false, "properties": [
                "connect_timeout": ["type": ["string", "number"]],
                "timeout": ["type": ["string", "number"]],
                "max_request_bytes": ["type": "integer", "minimum": 1],
                "max_response_bytes": ["type": "integer", "minimum": 1],
                "ca_file": ["type": "string", "minLength": 1],
                "user_agent": ["type": "string", "minLength": 1],
            ]],
            // Its shape is checked by the notification service (docs/notifications.md).
            "notifications": ["type": "object"],
            // Its shape is checked by the model router (docs/providers.md).
            "models": ["type": "object"],
            "search": ["type": "object", "additionalProperties": false, "properties": [
                "path": ["type": "string", "minLength": 1],
                "index_runs": ["type": "boolean"],
            ]],
            "trust": ["type": "object", "additionalProperties": false, "properties": [
                "publishers": ["type": "object", "additionalProperties": ["type": "string"]],
                "revoked": stringList,
            ]],
            "recovery_defaults": [
                "type": "object",
                "additionalProperties": false,
                "properties": .object(Dictionary(uniqueKeysWithValues: ["channel", "provider"].map { ($0, pipeline) })),
            ],
        ],
    ]
    // The schema is a constant written above; it is valid by construction.
    return try! JSONSchema(root)
}()
