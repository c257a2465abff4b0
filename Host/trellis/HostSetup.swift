import ArgumentParser
import Foundation
import Logging
import TrellisCore
import TrellisPluginHost
import TrellisRuntime
import TrellisSearch
import TrellisStore

/// What the commands that run workflows share: the deployment, its plugins,
/// the store and the engine's settings.
struct HostSetup {
    let configuration: DeploymentConfiguration
    let plugins: PluginManager
    let logger: Logger

    init(_ options: DeploymentOptions, logFormat: DeploymentOptions.LogFormat = .text) throws {
        // Before anything makes a metric: handles made earlier stay no-ops.
        HostMetrics.bootstrap()
        logger = options.makeLogger(defaultFormat: logFormat)
        configuration = try options.load()
        plugins = PluginManager(configuration: configuration, logger: logger)
    }

    /// Opens the store; plugins loaded afterwards keep their state in it.
    func openStore(override path: String? = nil) throws -> SQLiteStore {
        do {
            let store = try SQLiteStore(path: path ?? configuration.storePath)
            plugins.setStateStore(StorePluginState(store: store, logger: logger))
            return store
        } catch {
            throw CLIError("\(error.message). Set `store:` in the deployment config or pass --store")
        }
    }

    /// The engine's settings, with workflow secrets resolved (in memory only).
    func runtimeConfiguration() throws -> RuntimeConfiguration {
        var runtime = RuntimeConfiguration()
        runtime.maxConcurrentSteps = configuration.maxConcurrentSteps
        runtime.drainGraceSeconds = configuration.drainGraceSeconds
        runtime.leaseSeconds = configuration.leaseSeconds
        runtime.allowExec = configuration.allowExec
        runtime.pluginPoolSizes = configuration.plugins.compactMapValues(\.pool)
        runtime.recoveryDefaults = configuration.recoveryDefaults
        // A secret that cannot be resolved is left out: only a workflow that
        // uses it is refused (at validation, with why), never every run.
        let resolver = SecretResolver()
        for (name, reference) in configuration.workflowSecrets {
            runtime.secrets[name] = try? resolver.resolve(reference, pluginID: "workflow secrets",
                                                          at: configuration.location(of: "/secrets/\(name)"))
        }
        return runtime
    }

    /// The deployment's `notifications:` section (empty when it has none).
    func notificationSettings() throws -> NotificationSettings {
        do {
            return try NotificationSettings.parse(configuration)
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// Starts the notification service when the deployment configures
    /// recipients, and loads their channels and its recovery strategies.
    func startNotifications(store: SQLiteStore, mode: NotificationService.Mode) throws -> NotificationService? {
        let settings = try notificationSettings()
        guard !settings.recipients.isEmpty else { return nil }
        let service = NotificationService(settings: settings, store: store, plugins: plugins,
                                          recoveryDefaults: configuration.recoveryDefaults["channel"] ?? [], mode: mode, logger: logger)
        let ids = Set(settings.recipients.values.flatMap { $0.channels.map(\.channel) } + service.recovery.map(\.uses))
        for status in plugins.load(only: ids) where status.state != .ok {
            warn("notifications: \(status.id) did not load: \(status.reason ?? "unknown")")
        }
        for problem in service.routeProblems() { warn("notifications: \(problem)") }
        return service
    }

    /// The deployment's `models:` section (no groups when it has none).
    func routerSettings() throws -> RouterSettings {
        do {
            return try RouterSettings.parse(configuration)
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// The model router, with the provider plugins and recovery strategies
    /// its groups name loaded (a provider named directly is loaded by the
    /// workflow that names it).
    func modelRouter(store: SQLiteStore) throws -> ModelRouter {
        let settings = try routerSettings()
        let ids = Set(settings.groups.values.flatMap { $0.deployments.map(\.plugin) + $0.recovery.map(\.uses) }
                      + [settings.cache?.semantic?.plugin].compactMap { $0 })
        if !ids.isEmpty {
            for status in plugins.load(only: ids) where ids.contains(status.id) && status.state != .ok {
                logger.warning("a plugin the model groups use did not load",
                               metadata: ["plugin.id": "\(status.id)", "reason": "\(status.reason ?? "unknown")"])
            }
        }
        let plugins = plugins
        return ModelRouter(settings: settings, plugins: { plugins.instance($0) }, store: store, logger: logger)
    }

    /// An engine for a workflow's runs in the foreground. When its steps
    /// `uses` notify, a notification service delivers what they queue while
    /// the run lasts (what must wait is left to `trellis serve`); `finish` it
    /// after the run.
    func foregroundEngine(store: SQLiteStore, catalog: any PluginCatalog,
                          uses: Set<String>) throws -> (RunEngine, NotificationService?) {
        let notifications = uses.contains("notify") ? try startNotifications(store: store, mode: .transient) : nil
        let router = uses.contains("ai") ? try modelRouter(store: store) : nil
        let search = uses.contains("search.index") || uses.contains("search.query") ? searchEngine() : nil
        let engine = RunEngine(store: store, plugins: plugins, configuration: try runtimeConfiguration(),
                               catalog: catalog, notifications: notifications, router: router, search: search, logger: logger)
        return (engine, notifications)
    }

    /// Loads the plugins a workflow file uses and checks the workflow.
    func loadWorkflow(file: String) throws -> (Workflow, String, any PluginCatalog) {
        let source: String
        do {
            source = try TextFile.read(file)
        } catch {
            warn("error: the workflow \(error)")
            throw ExitCode(1)
        }
        let base = loadPlugins(for: source, file: file)
        let usesSearch = source.contains("search.index") || source.contains("search.query")
        let catalog = HostCatalog(base: base, settings: try notificationSettings(), models: try routerSettings(),
                                  search: usesSearch ? searchEngine() : nil)
        let defaultProblems = configuration.recoveryDefaultProblems(catalog: catalog)
        guard defaultProblems.isEmpty else {
            for problem in defaultProblems { warn(problem) }
            throw ExitCode(1)
        }
        let result = WorkflowLoader(catalog: catalog, allowExec: configuration.allowExec).load(text: source, file: file)
        guard let workflow = result.workflow else {
            for problem in result.problems { warn(problem.description) }
            throw ExitCode(1)
        }
        return (workflow, source, catalog)
    }

    /// The analyzer plugins the deployment config lists.
    var analyzerIDs: Set<String> { Set(configuration.plugins.keys.filter { $0.hasPrefix("analyzer.") }) }

    /// The deployment's search engine over its loaded analyzer plugins
    /// (loaded here when they are not yet).
    func searchEngine() -> SearchEngine {
        let missing = analyzerIDs.filter { plugins.status($0) == nil }
        if !missing.isEmpty { _ = plugins.load(only: missing) }
        return SearchEngine(root: configuration.searchDirectory, plugins: plugins)
    }

    /// The history indexer over the store, with the first of the standard
    /// and English analyzers the deployment enables; nil (saying why) with neither.
    func historyIndexer(store: SQLiteStore, search: SearchEngine) -> (HistoryIndexer?, String?) {
        guard let analyzer = ["analyzer.standard", "analyzer.english"].first(where: { plugins.instance($0) != nil }) else {
            return (nil, "run history is not indexed for search: enable analyzer.standard in the deployment config (plugins: analyzer.standard:)")
        }
        return (HistoryIndexer(engine: search, store: store, analyzer: analyzer), nil)
    }

    /// Loads just the plugins `source` names (steps and recovery entries).
    func loadPlugins(for source: String, file: String) -> DeploymentCatalog {
        var ids = configuration.recoveryDefaultPlugins.union(Self.uses(source, file: file))
        if ids.contains("ai"), let settings = try? routerSettings() {
            ids.formUnion(settings.groups.values.flatMap { $0.deployments.map(\.plugin) + $0.recovery.map(\.uses) })
        }
        if ids.contains("search.index") || ids.contains("search.query") { ids.formUnion(analyzerIDs) }
        let statuses = plugins.load(only: ids)
        return DeploymentCatalog(manager: plugins, statuses: statuses)
    }

    /// What a workflow's steps and recovery entries `uses`.
    static func uses(_ source: String, file: String) -> Set<String> {
        var ids = Set<String>()
        if let document = try? YAMLDocument(text: source, file: file) {
            for step in document.value["steps"]?.arrayValue ?? [] {
                if let uses = step["uses"]?.stringValue { ids.insert(uses) }
                // An ai step may name a provider plugin as its model (`provider.openai/gpt-4o`).
                let models = [step["with"]?["model"], step["with"]?["ensemble"]?["judge"]]
                    + (step["with"]?["ensemble"]?["models"]?.arrayValue ?? [])
                for model in models.compactMap({ $0?.stringValue }) {
                    if let plugin = RouterSettings.directProvider(model)?.plugin { ids.insert(plugin) }
                }
                for entry in step["recovery"]?.arrayValue ?? [] {
                    if let uses = entry["uses"]?.stringValue { ids.insert(uses) }
                }
            }
        }
        return ids
    }
}

/// Parses `--input k=v`: the value is JSON when it parses as JSON
/// (`3`, `true`, `[1,2]`), a string otherwise.
func parseInputs(_ pairs: [String], for workflow: Workflow) throws -> [String: JSONValue] {
    var inputs: [String: JSONValue] = [:]
    let declared = workflow.inputs.map(\.name)
    for pair in pairs {
        guard let equals = pair.firstIndex(of: "=") else {
            throw ValidationError("--input \(pair): write it as name=value")
        }
        let name = String(pair[..<equals]), text = String(pair[pair.index(after: equals)...])
        guard declared.contains(name) else {
            let hint = closest(to: name, in: declared).map { " (did you mean '\($0)'?)" }
                ?? (declared.isEmpty ? "; it declares none" : "; it declares \(declared.joined(separator: ", "))")
            throw ValidationError("--input \(name): the workflow has no input '\(name)'\(hint)")
        }
        let kind = workflow.inputs.first { $0.name == name }?.kind
        // A string input takes the text as written, even when it looks like JSON.
        inputs[name] = kind == .string ? .string(text) : (try? JSONValue(json: Data(text.utf8))) ?? .string(text)
    }
    for spec in workflow.inputs {
        if let value = inputs[spec.name] {
            if !spec.kind.accepts(value) { throw ValidationError("--input \(spec.name): expected \(spec.kind.rawValue), got \(value.typeName)") }
        } else if spec.required && spec.defaultValue == nil {
            throw ValidationError("the workflow needs --input \(spec.name)=…" + (spec.description.map { " (\($0))" } ?? ""))
        }
    }
    return inputs
}
