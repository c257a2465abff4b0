import TrellisJSON

/// What validation knows about the plugins a workflow may use.
public protocol PluginCatalog: Sendable {
    /// nil when no plugin has this id.
    func entry(for id: String) -> PluginCatalogEntry?
    /// Every known id, for suggestions.
    var knownIDs: [String] { get }
    /// What is wrong with a `uses: notify` step's `with:` against the
    /// deployment's notification settings (recipients, templates and their
    /// variables), as pointers into `with` and messages.
    func notifyProblems(_ with: JSONValue) -> [(pointer: String, message: String)]
    /// The workflow secrets the deployment defines (`${{ secrets.NAME }}`);
    /// nil when unknown (then references to them are not checked).
    var secretNames: Set<String>? { get }
    /// Why a defined workflow secret cannot be resolved here (an unset
    /// variable), or nil; a workflow that uses it is refused with this.
    func secretProblem(_ name: String) -> String?
    /// Why a `uses: ai` step's `model` names nothing this deployment
    /// serves (no model group, no provider plugin), or nil.
    func modelProblem(_ model: String) -> String?
    /// Why a `uses: search.*` step's `index` names no index of this
    /// deployment, or nil (also when indexes are not known here).
    func searchIndexProblem(_ index: String) -> String?
}

extension PluginCatalog {
    public func notifyProblems(_ with: JSONValue) -> [(pointer: String, message: String)] { [] }
    public var secretNames: Set<String>? { nil }
    public func secretProblem(_ name: String) -> String? { nil }
    public func modelProblem(_ model: String) -> String? { nil }
    public func searchIndexProblem(_ index: String) -> String? { nil }
}

public struct PluginCatalogEntry: Sendable {
    public var id: String
    public var kind: String
    /// Loaded and usable; otherwise `unavailableReason` says why.
    public var available: Bool
    public var unavailableReason: String?
    /// The schema of a step's `with:` (or a recovery entry's parameters).
    public var inputSchema: JSONSchema?

    public init(id: String, kind: String, available: Bool, unavailableReason: String? = nil, inputSchema: JSONSchema? = nil) {
        self.id = id
        self.kind = kind
        self.available = available
        self.unavailableReason = unavailableReason
        self.inputSchema = inputSchema
    }
}

/// A catalog that knows no plugins (every `uses:` must then be a built-in).
public struct EmptyPluginCatalog: PluginCatalog {
    public init() {}
    public func entry(for id: String) -> PluginCatalogEntry? { nil }
    public var knownIDs: [String] { [] }
}

/// A catalog that offers every plugin id, of the kind its prefix names
/// (`recovery.…`, `provider.…`, `analyzer.…`, else a channel), with no
/// schemas: what a workflow validates against when the question is whether
/// it is sound in itself, apart from what one deployment offers.
public struct PermissiveCatalog: PluginCatalog {
    public init() {}

    public func entry(for id: String) -> PluginCatalogEntry? {
        let kind = ["recovery", "provider", "analyzer"].first { id.hasPrefix($0 + ".") } ?? "channel"
        return PluginCatalogEntry(id: id, kind: kind, available: true)
    }

    public var knownIDs: [String] { [] }
}
