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
            guard let seconds = value.durationSeconds, seconds > 0 else {
                throw NotificationError(problems: ["digest_window '\(value.interpolated)' is not a duration (e.g. 10m)"])
            }
            window = seconds
        }
        self.init(recipients: recipients, template: template, variables: with["vars"] ?? .object([:]), priority: priority,
                  digestKey: with["digest_key"]?.stringValue, digestWindowSeconds: window, source: source, key: key)
    }
}
