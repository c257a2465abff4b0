import TrellisCore
import TrellisSearch
import TrellisStore

/// Workflow validation that also knows the deployment's settings for the
/// built-in steps: the notification settings, so a `uses: notify` step's
/// recipients, template and variables are checked before a run starts,
/// and the model groups, so a `uses: ai` step's model is.
public struct HostCatalog: PluginCatalog {
    public let base: any PluginCatalog
    public let settings: NotificationSettings
    public let models: RouterSettings
    /// The deployment's search indexes, for `uses: search.*` steps.
    public let search: SearchEngine?

    public init(base: any PluginCatalog, settings: NotificationSettings, models: RouterSettings = RouterSettings(),
                search: SearchEngine? = nil) {
        self.base = base
        self.settings = settings
        self.models = models
        self.search = search
    }

    public func searchIndexProblem(_ index: String) -> String? {
        guard let search else { return nil }
        let names = search.names
        if names.contains(index) { return nil }
        return "no search index '\(index)'" + (closest(to: index, in: names).map { " (did you mean '\($0)'?)" } ?? "")
            + (names.isEmpty ? "; make one with `trellis search create \(index) --schema FILE`" : "; the indexes are \(names.joined(separator: ", "))")
    }

    public func modelProblem(_ model: String) -> String? {
        if models.groups[model] != nil { return nil }
        if let plugin = RouterSettings.directProvider(model)?.plugin, let entry = base.entry(for: plugin), entry.kind == "provider" {
            return entry.available ? nil : "provider '\(plugin)' is not available: \(entry.unavailableReason ?? "it did not load")"
        }
        let groups = models.groups.keys.sorted()
        return "no model group is named '\(model)', and it is not a provider plugin"
            + (groups.isEmpty ? "; define groups under models.groups in the deployment config (docs/providers.md)"
                              : "; the groups are \(groups.joined(separator: ", "))")
    }

    public func entry(for id: String) -> PluginCatalogEntry? { base.entry(for: id) }
    public var knownIDs: [String] { base.knownIDs }
    public var secretNames: Set<String>? { base.secretNames }
    public func secretProblem(_ name: String) -> String? { base.secretProblem(name) }

    public func notifyProblems(_ with: JSONValue) -> [(pointer: String, message: String)] {
        // Values written as expressions are known only when the step runs:
        // a variable's counts as given, and `to` or `template` is not checked.
        // An empty or malformed `to` is the schema's to report.
        let unknown = { (value: JSONValue?) in value.map { !$0.templates().isEmpty } ?? false }
        var opaque = Set<String>()
        var known = with
        if case .object(var object) = with, case .object(var variables)? = object["vars"] {
            for (name, value) in variables where unknown(value) {
                opaque.insert(name)
                variables[name] = nil
            }
            object["vars"] = .object(variables)
            known = .object(object)
        }
        guard let request = try? NotificationRequest(step: known, source: "", key: nil) else { return [] }
        return NotificationService.checks(request, settings: settings, opaque: opaque)
            .filter { problem in
                switch problem.field {
                case "/to": !unknown(with["to"]) && !request.recipients.isEmpty
                case "/template": !unknown(with["template"])
                default: true
                }
            }
            .map { (pointer: $0.field, message: $0.message) }
    }
}
