import TrellisCore

/// What workflow validation knows about plugins: the registry's manifests
/// (their kinds and input schemas) and whether each one loaded.
public struct DeploymentCatalog: PluginCatalog {
    private let entries: [String: PluginCatalogEntry]
    public let knownIDs: [String]
    public let secretNames: Set<String>?
    private let secretProblems: [String: String]

    public init(manager: PluginManager, statuses: [PluginStatus]) {
        var entries: [String: PluginCatalogEntry] = [:]
        for status in statuses {
            let manifest = manager.manifest(of: status.id)
            let schema = manifest?.inputSchema.flatMap { try? JSONSchema($0) }
            entries[status.id] = PluginCatalogEntry(
                id: status.id, kind: (status.kind ?? manifest?.kind)?.rawValue ?? "unknown", available: status.state == .ok,
                unavailableReason: status.reason, inputSchema: schema)
        }
        self.entries = entries
        knownIDs = Set(entries.keys).union(manager.registry.ids).sorted()
        secretNames = Set(manager.configuration.workflowSecrets.keys)
        // Resolved here only to learn which cannot be: a run resolves its own.
        var problems: [String: String] = [:]
        let resolver = SecretResolver()
        for (name, reference) in manager.configuration.workflowSecrets {
            do {
                _ = try resolver.resolve(reference, pluginID: "workflow secrets",
                                         at: manager.configuration.location(of: "/secrets/\(JSONPointer.escape(name))"))
            } catch {
                problems[name] = error.message
            }
        }
        secretProblems = problems
    }

    public func secretProblem(_ name: String) -> String? { secretProblems[name] }

    public func entry(for id: String) -> PluginCatalogEntry? { entries[id] }
}

extension DeploymentConfiguration {
    /// What is wrong with `recovery_defaults`, each with its file:line:col.
    public func recoveryDefaultProblems(catalog: any PluginCatalog) -> [String] {
        recoveryDefaults.sorted { $0.key < $1.key }.flatMap { kind, pipeline in
            pipeline.enumerated().flatMap { index, entry in
                recoveryEntryProblems(entry, catalog: catalog, at: "/recovery_defaults/\(kind)/\(index)").map {
                    "\(location(of: $0.pointer)): \($0.message)"
                }
            }
        }
    }

    /// What is wrong with `notifications.recovery` (the pipeline failed
    /// deliveries go through), each with its file:line:col. Needs a catalog
    /// with every enabled plugin loaded.
    public func notificationRecoveryProblems(catalog: any PluginCatalog) -> [String] {
        (notifications?["recovery"]?.arrayValue ?? []).enumerated().flatMap { index, raw -> [String] in
            // A missing `uses` is the notification settings' own error.
            guard let uses = raw["uses"]?.stringValue else { return [] }
            let entry = RecoveryEntry(uses: uses, with: raw["with"] ?? .object([:]))
            return recoveryEntryProblems(entry, catalog: catalog, at: "/notifications/recovery/\(index)").map {
                "\(location(of: $0.pointer)): \($0.message)"
            }
        }
    }

    /// The plugins the default pipelines use.
    public var recoveryDefaultPlugins: Set<String> {
        Set(recoveryDefaults.values.flatMap { $0.map(\.uses) })
    }
}
