import TrellisCore
import TrellisStore

/// Workflow validation that also knows the deployment's notification
/// settings, so a `uses: notify` step's recipients, template and variables
/// are checked before a run starts.
public struct NotifyingCatalog: PluginCatalog {
    public let base: any PluginCatalog
    public let settings: NotificationSettings

    public init(base: any PluginCatalog, settings: NotificationSettings) {
        self.base = base
        self.settings = settings
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
