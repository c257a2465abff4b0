/// Which hosts one plugin may reach through the host's HTTP and mail
/// services: the hosts its manifest declares (`permissions.egress`), narrowed
/// by the deployment's `plugins.<id>.egress`.
///
/// An entry is a host name or address (`hooks.slack.com`, `127.0.0.1`), a
/// host and port (`127.0.0.1:8025`), a subdomain wildcard (`*.example.com`)
/// or `*`. A manifest that declares `*` (a webhook, whose targets only the
/// admin knows) lets the plugin reach only what the deployment lists.
public struct EgressPolicy: Sendable, Hashable {
    public let pluginID: String
    public let declared: [String]
    /// nil: the deployment set no list.
    public let allowed: [String]?
    /// The lists, parsed once (a request checks them every time).
    private let declaredRules: [Rule]
    private let allowedRules: [Rule]?

    public init(pluginID: String, declared: [String], allowed: [String]?) {
        self.pluginID = pluginID
        self.declared = declared
        self.allowed = allowed
        declaredRules = declared.map(Rule.init)
        allowedRules = allowed?.map(Rule.init)
    }

    /// What is wrong with an entry of a deployment's `egress` list, or nil:
    /// an entry is a host name (`hooks.slack.com`), an IPv4 or bracketed
    /// IPv6 address, either with `:port` (1–65535), or `*.domain` (any name
    /// in one domain). A deployment never lists `*`: that would let the
    /// plugin reach any host, this machine's and the network's own included.
    public static func entryProblem(_ entry: String) -> String? {
        if entry == "*" {
            return "would let the plugin reach any host; list the hosts it needs (a domain's names as *.example.com)"
        }
        guard !entry.isEmpty else { return "is empty" }
        if entry.contains("://") || entry.contains("/") {
            return "is a URL; give the host alone (and :port), e.g. 127.0.0.1:8080"
        }
        var name = entry
        if entry.hasPrefix("[") {
            guard let close = entry.firstIndex(of: "]") else { return "opens an IPv6 address with '[' but does not close it" }
            let rest = entry[entry.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()), (1...65535).contains(port) else {
                    return "has a port that is not a number from 1 to 65535"
                }
            }
            return entry[entry.index(after: entry.startIndex)..<close].allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
                ? nil : "is not an IPv6 address inside '[…]'"
        }
        if let colon = entry.lastIndex(of: ":") {
            guard let port = Int(entry[entry.index(after: colon)...]), (1...65535).contains(port) else {
                return "has a port that is not a number from 1 to 65535"
            }
            name = String(entry[..<colon])
        }
        if name.hasPrefix("*.") { name.removeFirst(2) }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard !name.isEmpty, labels.allSatisfy({ label in
            !label.isEmpty && label.count <= 63 && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }) else {
            return "is not a host name: letters, digits and '-' in labels joined by '.' (a wildcard only as *.domain)"
        }
        return nil
    }

    /// For the host's own requests: any host.
    public static let unrestricted = EgressPolicy(pluginID: "", declared: ["*"], allowed: ["*"])

    /// Nil when `host:port` may be reached; otherwise why not, and what to do.
    public func refusal(host: String, port: Int) -> String? {
        let host = host.utf8.contains(where: { (65...90).contains($0) }) ? host.lowercased() : host
        guard Self.matches(declaredRules, host: host, port: port) else {
            return "egress refused: \(pluginID) may reach only \(Self.describe(declared)) (its manifest's permissions.egress), not \(host):\(port)"
        }
        if let allowedRules {
            guard Self.matches(allowedRules, host: host, port: port) else {
                return "egress refused: the deployment lets \(pluginID) reach only \(Self.describe(allowed ?? [])), not \(host):\(port); "
                    + "add it to plugins.\(pluginID).egress in the deployment config"
            }
        } else if declared.contains("*") {
            return "egress refused: \(pluginID) may reach any host its deployment lists, and the deployment lists none; "
                + "add \(host) to plugins.\(pluginID).egress in the deployment config"
        }
        return nil
    }

    /// One entry of a list.
    private enum Rule: Sendable, Hashable {
        case any
        /// A host name or address, and the port when the entry names one.
        case host(String, port: Int?)
        /// `*.example.com`: any name ending in `.example.com`.
        case subdomains(of: String, port: Int?)
        /// An entry whose port is not a number: it allows nothing.
        case nothing

        init(_ raw: String) {
            let entry = raw.lowercased()
            guard entry != "*" else { self = .any; return }
            var name = entry
            var port: Int?
            if let colon = entry.lastIndex(of: ":"), !entry.hasSuffix("]"), entry.count(where: { $0 == ":" }) == 1 {
                guard let number = Int(entry[entry.index(after: colon)...]) else { self = .nothing; return }
                port = number
                name = String(entry[..<colon])
            }
            if name.hasPrefix("*.") {
                self = .subdomains(of: String(name.dropFirst(1)), port: port)
            } else {
                self = .host(name.trimmingCharacters(in: ["[", "]"]), port: port)
            }
        }

        func matches(host: String, port: Int) -> Bool {
            switch self {
            case .any: true
            case .host(let name, let only): (only == nil || only == port) && name == host
            case .subdomains(let suffix, let only): (only == nil || only == port) && host.hasSuffix(suffix)
            case .nothing: false
            }
        }
    }

    private static func matches(_ rules: [Rule], host: String, port: Int) -> Bool {
        rules.contains { $0.matches(host: host, port: port) }
    }

    private static func describe(_ entries: [String]) -> String {
        entries.isEmpty ? "no hosts" : entries.joined(separator: ", ")
    }
}
