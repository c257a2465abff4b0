import TrellisCore
import TrellisStore

extension NotificationRequest {
    /// The request a `uses: notify` step makes from its `with:` (rendered):
    /// `to`, `template`, `vars`, `priority`, `digest_key`, `digest_window`.
    public init(step with: JSONValue, source: String, key: String?) throws(NotificationError) {
        let recipients = with["to"]?.stringValue.map { [$0] } ?? with["to"]?.arrayValue?.compactMap(\.stringValue) ?? []
        guard let template = with["template"]?.stringValue else {
            throw NotificationError(problems: ["a notify step needs `with: { to: …, template: … }`"])
        }
        let priorityName = with["priority"]?.stringValue ?? "normal"
        guard let priority = NotificationPriority(rawValue: priorityName) else {
            throw NotificationError(problems: ["priority must be low, normal, high or critical, not '\(priorityName)'"])
        }
        var window: Double?
        if let value = with["digest_window"] {
            guard let seconds = value.doubleValue ?? value.stringValue.flatMap(parseDuration), seconds > 0 else {
                throw NotificationError(problems: ["digest_window '\(value.interpolated)' is not a duration (e.g. 10m)"])
            }
            window = seconds
        }
        self.init(recipients: recipients, template: template, variables: with["vars"] ?? .object([:]), priority: priority,
                  digestKey: with["digest_key"]?.stringValue, digestWindowSeconds: window, source: source, key: key)
    }
}

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

    public func notifyProblems(_ with: JSONValue) -> [(pointer: String, message: String)] {
        var problems: [(String, String)] = []
        var known = with
        // Values written as expressions are known only when the step runs.
        var opaque = Set<String>()
        if case .object(var variables)? = with["vars"] {
            for (name, value) in variables where !value.templates().isEmpty {
                opaque.insert(name)
                variables[name] = nil
            }
            if case .object(var object) = known {
                object["vars"] = .object(variables)
                known = .object(object)
            }
        }
        if case .object(var object) = known, let to = object["to"], !to.templates().isEmpty {
            object["to"] = .array([])
            known = .object(object)
        }
        guard let request = try? NotificationRequest(step: known, source: "", key: nil) else { return [] }
        if !request.recipients.isEmpty {
            for name in request.recipients where settings.recipients[name] == nil {
                problems.append(("/to", "unknown recipient '\(name)'"
                                 + NotificationService.suggestion(name, among: Array(settings.recipients.keys))))
            }
        }
        guard let template = settings.templates[request.template] else {
            if with["template"]?.templates().isEmpty != false {
                problems.append(("/template", "unknown template '\(request.template)'"
                                 + NotificationService.suggestion(request.template, among: Array(settings.templates.keys))))
            }
            return problems
        }
        for problem in template.missingVariables(request.variables, opaque: opaque) {
            problems.append(("/vars", "template \(request.template)\(problem.pointer.isEmpty ? "" : " at \(problem.pointer)"): \(problem.message)"))
        }
        return problems
    }
}
