import Foundation
import Logging
import TrellisCore

/// One plugin's state after loading, as `trellis plugins list` shows it.
public struct PluginStatus: Sendable, Codable, Hashable {
    public enum State: String, Sendable, Codable {
        case ok, disabled, error
    }

    public var id: String
    public var kind: PluginKind?
    public var version: String?
    public var path: String?
    public var state: State
    public var required: Bool
    /// Why it is disabled or failed, and what to do.
    public var reason: String?
    public var errorCode: String?
    /// Loaded without a signature the deployment otherwise requires (`allow_unsigned: true`).
    public var unsignedAllowed = false

    enum CodingKeys: String, CodingKey {
        case id, kind, version, path, state, required, reason
        case errorCode = "error_code"
        case unsignedAllowed = "unsigned_allowed"
    }
}

/// Loads the plugins a deployment config enables and keeps their instances.
///
/// For each enabled plugin, in order: find its manifest (within the version
/// range), resolve secrets and validate its config against the manifest's
/// schema, find its library, check the library's sha256 — all before
/// `dlopen` — then open it, check the descriptor against the manifest, and
/// create the instance. A disabled plugin is never opened.
public final class PluginManager: @unchecked Sendable {
    public let configuration: DeploymentConfiguration
    public let registry: PluginRegistry
    private let logger: Logger
    private let secrets: SecretResolver
    private let lock = NSLock()
    /// The time plugins see through `trellis.clock/1` (tests set a clock they control).
    public let clock: @Sendable () -> Double
    private var stateStore: (any PluginStateStore)?
    /// The HTTP and mail clients plugins share (each with its own allow-list).
    public let http: HTTPClient
    public let mail: MailClient
    private var instances: [String: PluginInstance] = [:]
    private var statuses: [String: PluginStatus] = [:]

    public init(configuration: DeploymentConfiguration, secrets: SecretResolver = SecretResolver(), logger: Logger,
                clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.clock = clock
        self.configuration = configuration
        http = HTTPClient(settings: configuration.http)
        mail = MailClient(settings: configuration.http)
        self.registry = PluginRegistry(directories: configuration.registryPaths)
        self.secrets = secrets
        self.logger = logger
    }

    /// Loads every plugin the registry or the config names, plus
    /// `extraLibraries` (paths loaded without a manifest, with an empty
    /// config: for trying a plugin under development). Returns all statuses
    /// sorted by id.
    @discardableResult
    public func loadAll(extraLibraries: [String] = []) -> [PluginStatus] {
        load(only: nil, extraLibraries: extraLibraries)
    }

    /// Loads only the plugins in `ids` (nil: all); the others keep no
    /// status. `trellis run` loads just what its workflow uses.
    @discardableResult
    public func load(only ids: Set<String>?, extraLibraries: [String] = []) -> [PluginStatus] {
        let all = Set(registry.ids).union(configuration.plugins.keys)
        for id in all.intersection(ids ?? all).sorted() { record(load(id: id)) }
        for path in extraLibraries { record(loadUnlisted(path: path)) }
        for problem in registry.problems {
            logger.warning("unreadable manifest", metadata: ["error": "\(problem)"])
        }
        return lock.withLock { statuses.values.sorted { $0.id < $1.id } }
    }

    /// Where plugins loaded from now on keep state (`trellis.state/1`); set it
    /// before loading.
    public func setStateStore(_ store: any PluginStateStore) {
        lock.withLock { stateStore = store }
    }

    /// The instance of a loaded plugin.
    public func instance(_ id: String) -> PluginInstance? {
        lock.withLock { instances[id] }
    }

    /// The manifest the deployment selects for a plugin (nil for a library
    /// loaded without one).
    public func manifest(of id: String) -> PluginManifest? {
        registry.manifest(for: PluginInstanceName.pluginID(id), in: configuration.plugins[id]?.version)
    }

    /// The status of a plugin after `loadAll`.
    public func status(_ id: String) -> PluginStatus? {
        lock.withLock { statuses[id] }
    }

    private func record(_ status: PluginStatus) {
        lock.withLock { statuses[status.id] = status }
        var metadata: Logger.Metadata = ["plugin.id": "\(status.id)", "plugin.state": "\(status.state.rawValue)"]
        if let reason = status.reason { metadata["plugin.reason"] = "\(reason)" }
        logger.debug("plugin loaded", metadata: metadata)
    }

    private func load(id: String) -> PluginStatus {
        let settings = configuration.plugins[id]
        let manifest = manifest(of: id)
        var status = PluginStatus(id: id, kind: manifest?.kind, version: manifest?.version, path: nil, state: .disabled,
                                  required: settings?.required ?? false)
        guard let settings, settings.enabled else {
            status.reason = settings == nil ? "not enabled in the deployment config" : "enabled: false in the deployment config"
            return status
        }
        do {
            let instance = try open(id: id, settings: settings, manifest: manifest)
            status.path = instance.library.path
            status.state = .ok
            if configuration.trust.requiresSignatures, manifest?.publisher?.signature == nil {
                status.unsignedAllowed = true
                logger.warning("plugin loaded without a signature (allow_unsigned: true)", metadata: ["plugin.id": "\(id)"])
            }
            lock.withLock { instances[id] = instance }
        } catch {
            status.state = .error
            status.path = error.path
            status.reason = error.reason
            status.errorCode = error.code.name
        }
        return status
    }

    private func open(id: String, settings: DeploymentConfiguration.PluginSettings,
                      manifest: PluginManifest?) throws(PluginLoadError) -> PluginInstance {
        guard let manifest else {
            let pluginID = PluginInstanceName.pluginID(id)
            let versions = registry.manifests[pluginID]?.map(\.version).sorted() ?? []
            // A manifest that is there but cannot be read says why, not "missing".
            if versions.isEmpty, let invalid = registry.problems.first(where: { $0.pluginID == pluginID }) { throw invalid }
            throw PluginLoadError(
                .manifestMissing, pluginID: id,
                message: versions.isEmpty
                    ? "no manifest for it in the registry (\(configuration.registryPaths.joined(separator: ", ")))"
                    : "no manifest version matches \(settings.version?.description ?? "*") (available: \(versions.joined(separator: ", ")))",
                remedy: versions.isEmpty
                    ? "Install the plugin's manifest under the registry directory, or run `trellis registry stamp` for bundled plugins"
                    : "Change `version:` for \(id) in the deployment config")
        }
        // 1. Config: resolve secrets, validate against the schema.
        let config = try secrets.resolve(settings.config, pluginID: id, at: settings.configPointer,
                                         locate: configuration.location(of:))
        // Built by PluginManifest.load, which refused an unusable schema.
        let violations = (try? JSONSchema(manifest.configSchema))?.validate(config) ?? []
        if !violations.isEmpty {
            let detail = violations.map { violation in
                "\(configuration.location(of: settings.configPointer + violation.path)): config\(violation.path): \(violation.message)"
            }
            throw PluginLoadError(.configInvalid, pluginID: id,
                                  message: "its config does not match the manifest's schema: " + detail.joined(separator: "; "),
                                  remedy: "Fix `plugins.\(id).config` in the deployment config")
        }
        var grantedSecrets: [String: String] = [:]
        for name in settings.secrets.keys.sorted() where !manifest.permissions.secrets.contains(name) {
            throw PluginLoadError(
                .configInvalid, pluginID: id,
                message: "\(configuration.location(of: "/plugins/\(YAMLDocument.escape(id))/secrets/\(YAMLDocument.escape(name))")): the deployment grants the secret '\(name)', which the plugin's manifest does not ask for",
                remedy: manifest.permissions.secrets.isEmpty ? "Remove `secrets:` for \(id)"
                    : "Grant only \(manifest.permissions.secrets.joined(separator: ", "))")
        }
        for (name, reference) in settings.secrets {
            grantedSecrets[name] = try secrets.resolve(reference, pluginID: id, at: configuration.location(
                of: "/plugins/\(YAMLDocument.escape(id))/secrets/\(YAMLDocument.escape(name))"))
        }
        // 2. The library: its checksum before dlopen, then its descriptor.
        let library = try openVerified(manifest: manifest, explicitPath: settings.path, allowUnsigned: settings.allowUnsigned)
        try checkDuplicate(library)
        // 3. Create.
        return try create(library, name: id, config: config, secrets: grantedSecrets,
                          egress: EgressPolicy(pluginID: id, declared: manifest.permissions.egress, allowed: settings.egress))
    }

    /// Finds the library a manifest names, checks its sha256 and only then
    /// opens it, and holds its descriptor to the manifest. Nothing in the
    /// library runs before the checksum matches.
    public func openVerified(manifest: PluginManifest, explicitPath: String? = nil,
                             allowUnsigned: Bool = false) throws(PluginLoadError) -> PluginLibrary {
        let id = manifest.id
        let path: String
        if let explicitPath { path = explicitPath } else { path = try locateLibrary(manifest: manifest) }
        // The signature first: it covers the sha256 that the library is then checked against.
        if let refusal = configuration.trust.refusal(manifest, allowUnsigned: allowUnsigned, path: path) { throw refusal }
        guard let expected = manifest.library.sha256 else {
            throw PluginLoadError(.checksumMismatch, path: path, pluginID: id,
                                  message: "its manifest records no sha256, so the library cannot be verified",
                                  remedy: "Run `trellis registry stamp` after building, or install the publisher's manifest")
        }
        let actual: String
        do {
            actual = try sha256(ofFile: path)
        } catch {
            throw PluginLoadError(.fileMissing, path: path, pluginID: id,
                                  message: "the library cannot be read (\(error.localizedDescription))",
                                  remedy: "Build or install the plugin, or fix its path")
        }
        guard actual == expected.lowercased() else {
            throw PluginLoadError(.checksumMismatch, path: path, pluginID: id,
                                  message: "the library's sha256 is \(actual), but its manifest says \(expected); it was not loaded",
                                  remedy: "Reinstall the plugin from its publisher; if you rebuilt it yourself, run `trellis registry stamp`")
        }
        let library = try PluginLibrary.open(path: path)
        let info = library.info
        if let problem = Self.disagreement(manifest, info) {
            throw PluginLoadError(.manifestMismatch, path: path, pluginID: id, message: problem,
                                  remedy: "Install the manifest that belongs to this library (or correct the manifest and stamp it again)")
        }
        return library
    }

    /// Where a manifest and its library's descriptor disagree, or nil: id,
    /// kind, version, the ABI it was built for (major and minor), and the
    /// interfaces it offers (the same set the manifest lists).
    public static func disagreement(_ manifest: PluginManifest, _ info: PluginInfo) -> String? {
        for (field, fromManifest, fromLibrary) in [("id", manifest.id, info.id), ("kind", manifest.kind.rawValue, info.kind.rawValue),
                                                   ("version", manifest.version, info.version)] where fromManifest != fromLibrary {
            return "the library's \(field) is '\(fromLibrary)', but its manifest says '\(fromManifest)'"
        }
        if manifest.abi.major != info.abi.major || manifest.abi.minor != info.abi.minor {
            return "the library is built for plugin ABI \(info.abi.major).\(info.abi.minor), but its manifest says "
                + "\(manifest.abi.major).\(manifest.abi.minor)"
        }
        let declared = Set(manifest.interfaces), offered = Set(info.interfaces)
        if declared != offered {
            let missing = declared.subtracting(offered).sorted(), unlisted = offered.subtracting(declared).sorted()
            return "the manifest's interfaces differ from the library's: "
                + [missing.isEmpty ? nil : "the library does not offer \(missing.joined(separator: ", "))",
                   unlisted.isEmpty ? nil : "the manifest does not list \(unlisted.joined(separator: ", "))"]
                    .compactMap { $0 }.joined(separator: "; ")
        }
        return nil
    }

    private func loadUnlisted(path: String) -> PluginStatus {
        var status = PluginStatus(id: path, kind: nil, version: nil, path: path, state: .error, required: true)
        do {
            let library = try PluginLibrary.open(path: path)
            status.id = library.info.id
            status.kind = library.info.kind
            status.version = library.info.version
            status.path = library.path
            try checkDuplicate(library)
            // Without a manifest, only what the deployment lists may be reached;
            // its config and secrets for the plugin's id apply as to a listed plugin.
            let settings = configuration.plugins[library.info.id]
            let egress = EgressPolicy(pluginID: library.info.id, declared: ["*"], allowed: settings?.egress)
            let id = library.info.id
            let config = try settings.map { settings throws(PluginLoadError) in
                try secrets.resolve(settings.config, pluginID: id, at: settings.configPointer, locate: configuration.location(of:))
            } ?? .object([:])
            var granted: [String: String] = [:]
            for (name, reference) in settings?.secrets ?? [:] {
                granted[name] = try secrets.resolve(reference, pluginID: id, at: configuration.location(
                    of: "/plugins/\(YAMLDocument.escape(id))/secrets/\(YAMLDocument.escape(name))"))
            }
            let instance = try create(library, config: config, secrets: granted, egress: egress)
            lock.withLock { instances[library.info.id] = instance }
            status.state = .ok
        } catch {
            status.reason = error.reason
            status.errorCode = error.code.name
        }
        return status
    }

    private func checkDuplicate(_ library: PluginLibrary) throws(PluginLoadError) {
        if let existing = instance(library.info.id), existing.library.path != library.path {
            throw PluginLoadError(.duplicateID, path: library.path, pluginID: library.info.id,
                                  message: "another library with the same id is already loaded from \(existing.library.path)",
                                  remedy: "Give each plugin a unique id, or enable only one of them")
        }
    }

    private func create(_ library: PluginLibrary, name: String? = nil, config: JSONValue, secrets: [String: String],
                        egress: EgressPolicy) throws(PluginLoadError) -> PluginInstance {
        do {
            try library.validateChannelConfig(config)
        } catch {
            throw PluginLoadError(.configInvalid, path: library.path, pluginID: library.info.id,
                                  message: "the plugin rejected its config: \(error.message)",
                                  remedy: "Fix `plugins.\(library.info.id).config` in the deployment config")
        }
        return try PluginInstance(library: library, name: name, configuration: config, secrets: secrets, logger: logger,
                                  clock: clock, state: lock.withLock { stateStore },
                                  network: PluginNetwork(http: http, mail: mail, egress: egress))
    }

    private func locateLibrary(manifest: PluginManifest) throws(PluginLoadError) -> String {
        for directory in configuration.pluginPaths {
            let candidate = URL(fileURLWithPath: directory).appendingPathComponent(manifest.library.file).path
            guard FileManager.default.fileExists(atPath: candidate) else { continue }
            // A symbolic link may not lead out of the plugin path.
            let resolved = URL(fileURLWithPath: candidate).resolvingSymlinksInPath().path
            let root = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
            guard resolved.hasPrefix(root.hasSuffix("/") ? root : root + "/") else {
                throw PluginLoadError(.fileMissing, path: candidate, pluginID: manifest.id,
                                      message: "its library \(manifest.library.file) in \(directory) is a link to \(resolved), outside the plugin path",
                                      remedy: "Install the library itself in a plugin path, or add its directory to `plugin_paths`")
            }
            return candidate
        }
        throw PluginLoadError(.fileMissing, pluginID: manifest.id,
                              message: "its library \(manifest.library.file) is in none of the plugin paths (\(configuration.pluginPaths.joined(separator: ", ")))",
                              remedy: "Build or install the plugin, or add its directory to `plugin_paths`")
    }
}
