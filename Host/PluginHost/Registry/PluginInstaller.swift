import Foundation
import TrellisCore

/// A plugin as a publisher hands it out: a manifest and its library.
public struct PluginPackage: Sendable {
    public var manifest: PluginManifest
    public var manifestPath: String
    /// The library, when it was found.
    public var libraryPath: String?
}

/// A folder plugins are installed from: `<folder>/<id>/<version>.json`,
/// each library at `<folder>/<id>/<version>/<file>` (as `trellis plugins
/// pack` writes it) or beside the folder (as a build's stamped registry
/// lies next to its libraries).
public struct PluginSource: Sendable {
    public let folder: String
    public private(set) var packages: [String: [PluginPackage]] = [:]
    /// Manifests that could not be read.
    public private(set) var problems: [PluginLoadError] = []

    public init(folder: String) {
        self.folder = folder
        let files = FileManager.default
        for id in ((try? files.contentsOfDirectory(atPath: folder)) ?? []).sorted() {
            let directory = URL(fileURLWithPath: folder).appendingPathComponent(id)
            for name in ((try? files.contentsOfDirectory(atPath: directory.path)) ?? []).sorted() where name.hasSuffix(".json") {
                let path = directory.appendingPathComponent(name).path
                do {
                    let manifest = try PluginManifest.load(path: path)
                    guard manifest.id == id else {
                        throw PluginLoadError(.manifestInvalid, path: path, pluginID: id,
                                              message: "its id '\(manifest.id)' differs from its folder '\(id)'",
                                              remedy: "Ask the publisher for a consistent package")
                    }
                    let candidates = [directory.appendingPathComponent(manifest.version).appendingPathComponent(manifest.library.file),
                                      URL(fileURLWithPath: folder).deletingLastPathComponent().appendingPathComponent(manifest.library.file)]
                    let library = candidates.first { files.fileExists(atPath: $0.path) }?.path
                    packages[id, default: []].append(PluginPackage(manifest: manifest, manifestPath: path, libraryPath: library))
                } catch let error as PluginLoadError {
                    problems.append(error)
                } catch {
                    problems.append(PluginLoadError(.manifestInvalid, path: path, pluginID: id, message: "\(error)",
                                                    remedy: "Ask the publisher for a valid package"))
                }
            }
        }
    }

    public var ids: [String] { packages.keys.sorted() }

    /// The packages of `id` within `range`, newest first.
    public func versions(_ id: String, in range: VersionRange?) -> [PluginPackage] {
        (packages[id] ?? [])
            .filter { package in package.manifest.semanticVersion.map { range?.contains($0) ?? true } ?? false }
            .sorted { $0.manifest.semanticVersion! > $1.manifest.semanticVersion! }
    }

    /// The newest package of `id` within `range`.
    public func newest(_ id: String, in range: VersionRange?) -> PluginPackage? {
        versions(id, in: range).first
    }
}

/// Installs packages into a deployment: the library into its first plugin
/// path, the manifest into its first registry folder. Nothing is installed
/// that the deployment would refuse to load: the signature is checked
/// against the deployment's trust, the library against the manifest's
/// sha256 and as an ELF shared object — all without opening it.
public struct PluginInstaller: Sendable {
    public let configuration: DeploymentConfiguration

    public init(configuration: DeploymentConfiguration) {
        self.configuration = configuration
    }

    public struct Installation: Sendable {
        public var manifest: PluginManifest
        public var libraryPath: String
        public var manifestPath: String
        /// Manifests of other versions, removed because their library was replaced.
        public var removed: [String]
    }

    public var libraryDirectory: String? { configuration.pluginPaths.first }
    public var registryDirectory: String? { configuration.registryPaths.first }

    /// The manifest installed for `id` in the deployment's registry folder.
    public func installed(_ id: String) -> PluginManifest? {
        PluginRegistry(directories: registryDirectory.map { [$0] } ?? []).manifest(for: id)
    }

    /// Why the deployment would refuse `package`, or nil.
    public func verify(_ package: PluginPackage) throws(PluginLoadError) {
        let manifest = package.manifest, id = manifest.id
        guard let library = package.libraryPath else {
            throw PluginLoadError(.fileMissing, path: package.manifestPath, pluginID: id,
                                  message: "the package has no library \(manifest.library.file) (looked in \(manifest.version)/ beside the manifest, and beside the folder)",
                                  remedy: "Ask the publisher for the whole package (`trellis plugins pack` writes both)")
        }
        let allowUnsigned = configuration.plugins[id]?.allowUnsigned ?? false
        if let refusal = configuration.trust.refusal(manifest, allowUnsigned: allowUnsigned, path: package.manifestPath) {
            throw refusal
        }
        guard let expected = manifest.library.sha256 else {
            throw PluginLoadError(.checksumMismatch, path: package.manifestPath, pluginID: id,
                                  message: "its manifest records no sha256, so its library cannot be verified",
                                  remedy: "Install a package made by `trellis plugins pack` or `trellis registry stamp`")
        }
        let actual: String
        do {
            actual = try sha256(ofFile: library)
        } catch {
            throw PluginLoadError(.fileMissing, path: library, pluginID: id, message: "the library cannot be read (\(error.localizedDescription))",
                                  remedy: "Check the package's files")
        }
        guard actual == expected.lowercased() else {
            throw PluginLoadError(.checksumMismatch, path: library, pluginID: id,
                                  message: "the library's sha256 is \(actual), but its manifest says \(expected); it was changed after packing",
                                  remedy: "Get the package again from its publisher")
        }
        if let problem = ELFCheck.problem(at: library) {
            throw PluginLoadError(problem.code, path: library, pluginID: id, message: problem.message, remedy: problem.remedy)
        }
    }

    /// Verifies and installs `package`, replacing any other installed version.
    public func install(_ package: PluginPackage) throws(PluginLoadError) -> Installation {
        try verify(package)
        let manifest = package.manifest, id = manifest.id
        guard let libraryDirectory, let registryDirectory, let source = package.libraryPath else {
            throw PluginLoadError(.fileMissing, pluginID: id, message: "the deployment has no plugin path or registry folder",
                                  remedy: "Set `plugin_paths` and `registry` in the deployment config")
        }
        let registry = PluginRegistry(directories: [registryDirectory])
        for other in registry.ids where other != id {
            if registry.manifests[other]?.contains(where: { $0.library.file == manifest.library.file }) == true {
                throw PluginLoadError(.duplicateID, pluginID: id,
                                      message: "its library file \(manifest.library.file) is the one \(other) is installed with",
                                      remedy: "Uninstall \(other) first, or ask the publisher to name the library after the plugin")
            }
        }
        let files = FileManager.default
        let libraryPath = URL(fileURLWithPath: libraryDirectory).appendingPathComponent(manifest.library.file).path
        let manifestDirectory = URL(fileURLWithPath: registryDirectory).appendingPathComponent(id)
        let manifestPath = manifestDirectory.appendingPathComponent("\(manifest.version).json").path
        func failure(_ what: String, _ error: any Error) -> PluginLoadError {
            PluginLoadError(.fileMissing, pluginID: id, message: "cannot \(what) (\(error.localizedDescription))",
                            remedy: "Check that the deployment's plugin path and registry folder are writable")
        }
        do {
            try files.createDirectory(atPath: libraryDirectory, withIntermediateDirectories: true)
            try files.createDirectory(at: manifestDirectory, withIntermediateDirectories: true)
        } catch {
            throw failure("create the deployment's plugin folders", error)
        }
        // The library is copied beside its place, checked again, and renamed
        // into it: a host starting meanwhile sees the old file or the new one.
        let temporary = libraryPath + ".\(getpid()).installing"
        do {
            try? files.removeItem(atPath: temporary)
            try files.copyItem(atPath: source, toPath: temporary)
        } catch {
            throw failure("copy the library into \(libraryDirectory)", error)
        }
        guard (try? sha256(ofFile: temporary)) == manifest.library.sha256?.lowercased() else {
            try? files.removeItem(atPath: temporary)
            throw PluginLoadError(.checksumMismatch, path: source, pluginID: id, message: "the library changed while it was being copied",
                                  remedy: "Install again")
        }
        do {
            try PluginRegistry.write(manifest, to: manifestPath)
        } catch {
            try? files.removeItem(atPath: temporary)
            throw failure("write \(manifestPath)", error)
        }
        guard rename(temporary, libraryPath) == 0 else {
            let reason = String(cString: strerror(errno))
            try? files.removeItem(atPath: temporary)
            throw PluginLoadError(.fileMissing, path: libraryPath, pluginID: id, message: "cannot put the library in place (\(reason))",
                                  remedy: "Check that \(libraryDirectory) is writable")
        }
        var removed: [String] = []
        for name in ((try? files.contentsOfDirectory(atPath: manifestDirectory.path)) ?? []).sorted()
        where name.hasSuffix(".json") && name != "\(manifest.version).json" {
            let path = manifestDirectory.appendingPathComponent(name).path
            if (try? files.removeItem(atPath: path)) != nil { removed.append(path) }
        }
        return Installation(manifest: manifest, libraryPath: libraryPath, manifestPath: manifestPath, removed: removed)
    }
}
