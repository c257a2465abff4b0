/// Which hosts one plugin may reach through the host's HTTP and mail
/// services: the hosts its manifest declares (`permissions.egress`), narrowed
/// by the deployment's `plugins.<id>.egress`.
///
/// An entry is a host name or address (`hooks.slack.com`, `127.0.0.1`), a
/// host and port (`127.0.0.1:8025`), a subdomain wildcard (`*.example.com`)
/// or `*`. A manifest that declares `*` (a webhook, whose targets only the
/// admin knows) lets the plugin reach only what the deployment lists.
public struct EgressPolicy: Sendable, Hashable {
    public var pluginID: String
    public var declared: [String]
    /// nil: the deployment set no list.
    public var allowed: [String]?

    public init(pluginID: String, declared: [String], allowed: [String]?) {
        self.pluginID = pluginID
        self.declared = declared
        self.allowed = allowed
    }

    /// For the host's own requests: any host.
    public static let unrestricted = EgressPolicy(pluginID: "", declared: ["*"], allowed: ["*"])

    /// Nil when `host:port` may be reached; otherwise why not, and what to do.
    public func refusal(host: String, port: Int) -> String? {
        let target = "\(host):\(port)"
        guard Self.matches(declared, host: host, port: port) else {
            return "egress refused: \(pluginID) may reach only \(Self.describe(declared)) (its manifest's permissions.egress), not \(target)"
        }
        if let allowed {
            guard Self.matches(allowed, host: host, port: port) else {
                return "egress refused: the deployment lets \(pluginID) reach only \(Self.describe(allowed)), not \(target); "
                    + "add it to plugins.\(pluginID).egress in the deployment config"
            }
        } else if declared.contains("*") {
            return "egress refused: \(pluginID) may reach any host its deployment lists, and the deployment lists none; "
                + "add \(host) to plugins.\(pluginID).egress in the deployment config"
        }
        return nil
    }

    static func matches(_ entries: [String], host: String, port: Int) -> Bool {
        let host = host.lowercased()
        return entries.contains { raw in
            let entry = raw.lowercased()
            if entry == "*" { return true }
            var name = entry
            if let colon = entry.lastIndex(of: ":"), !entry.hasSuffix("]"), entry.filter({ $0 == ":" }).count == 1 {
                guard Int(entry[entry.index(after: colon)...]) == port else { return false }
                name = String(entry[..<colon])
            }
            if name.hasPrefix("*.") { return host.hasSuffix(String(name.dropFirst(1))) }
            return name.trimmingCharacters(in: ["[", "]"]) == host
        }
    }

    private static func describe(_ entries: [String]) -> String {
        entries.isEmpty ? "no hosts" : entries.joined(separator: ", ")
    }
}
