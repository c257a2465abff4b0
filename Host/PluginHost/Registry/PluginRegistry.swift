import Crypto
import Foundation
import TrellisCore

/// The plugin catalog: every manifest found in the registry directories,
/// laid out as `<dir>/<plugin id>/<version>.json`.
public struct PluginRegistry: Sendable {
    public private(set) var manifests: [String: [PluginManifest]] = [:]
    /// Manifest files that could not be read, with why.
    public private(set) var problems: [PluginLoadError] = []

    public init(directories: [String]) {
        let files = FileManager.default
        for directory in directories {
            guard let enumerator = files.enumerator(atPath: directory) else { continue }
            for case let relative as String in enumerator where relative.hasSuffix(".json") {
                let path = URL(fileURLWithPath: directory).appendingPathComponent(relative).path
                // `<id>/<version>.json`: the folder names the plugin, even when the file cannot be read.
                let folder = relative.split(separator: "/").dropLast().last.map(String.init)
                do {
                    let manifest = try PluginManifest.load(path: path)
                    if let folder, folder != manifest.id {
                        throw PluginLoadError(.manifestInvalid, path: path, pluginID: folder,
                                              message: "its id '\(manifest.id)' differs from its folder '\(folder)'",
                                              remedy: "Put the manifest under \(manifest.id)/, or fix its id")
                    }
                    manifests[manifest.id, default: []].append(manifest)
                } catch let error as PluginLoadError {
                    var problem = error
                    if problem.pluginID == nil { problem.pluginID = folder }
                    problems.append(problem)
                } catch {
                    problems.append(PluginLoadError(.manifestInvalid, path: path, pluginID: folder, message: "\(error)",
                                                    remedy: "Fix the manifest (see docs/abi.md, \"Manifests\")"))
                }
            }
        }
    }

    public var ids: [String] { manifests.keys.sorted() }

    /// The newest manifest for `id` within `range` (any version when nil).
    public func manifest(for id: String, in range: VersionRange? = nil) -> PluginManifest? {
        (manifests[id] ?? [])
            .filter { manifest in range.map { range in manifest.semanticVersion.map(range.contains) ?? false } ?? true }
            .max { ($0.semanticVersion ?? SemanticVersion(0, 0, 0)) < ($1.semanticVersion ?? SemanticVersion(0, 0, 0)) }
    }

    /// Writes a copy of every manifest under `source` into `output` with the
    /// sha256 of its library as found in `libraries`. This is how a build
    /// publishes the bundled plugins. Returns the manifests written.
    /// With `signer`, each manifest is also signed by its key, as its publisher.
    @discardableResult
    /// Each library is opened first, and refused when its manifest does not
    /// describe it (so a library built for another ABI is never stamped).
    /// `only` stamps just those plugin ids.
    public static func stamp(source: String, libraries: String, output: String,
                             signer: (key: Curve25519.Signing.PrivateKey, publisher: String)? = nil,
                             only: Set<String>? = nil) throws -> [(PluginManifest, String)] {
        let registry = PluginRegistry(directories: [source])
        if let problem = registry.problems.first { throw problem }
        if let only, let unknown = only.subtracting(registry.ids).sorted().first {
            throw PluginLoadError(.manifestMissing, pluginID: unknown, message: "no manifest for it under \(source)",
                                  remedy: "Write registry/\(unknown)/<version>.json there, or check the id")
        }
        var written: [(PluginManifest, String)] = []
        for id in registry.ids where only?.contains(id) ?? true {
            for var manifest in registry.manifests[id] ?? [] {
                let library = URL(fileURLWithPath: libraries).appendingPathComponent(manifest.library.file).path
                guard FileManager.default.fileExists(atPath: library) else {
                    throw PluginLoadError(.fileMissing, path: library, pluginID: id,
                                          message: "the manifest names \(manifest.library.file), which is not in \(libraries)",
                                          remedy: "Build the plugin first (`swift build`, `make`), pass --libraries, or stamp others with --only")
                }
                manifest = try stamped(manifest, library: library, signer: signer)
                let directory = URL(fileURLWithPath: output).appendingPathComponent(id)
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                let target = directory.appendingPathComponent("\(manifest.version).json")
                try write(manifest, to: target.path)
                written.append((manifest, target.path))
            }
        }
        return written
    }
}

extension PluginRegistry {
    /// `manifest` with the sha256 of `library`, and signed by `signer` when
    /// given. The library is opened first and refused when the manifest does
    /// not describe it (id, kind, version, ABI, interfaces).
    public static func stamped(_ manifest: PluginManifest, library: String,
                               signer: (key: Curve25519.Signing.PrivateKey, publisher: String)?) throws -> PluginManifest {
        let opened = try PluginLibrary.open(path: library)
        if let problem = PluginManager.disagreement(manifest, opened.info) {
            throw PluginLoadError(.manifestMismatch, path: library, pluginID: manifest.id, message: problem,
                                  remedy: "Correct the manifest (or rebuild the library) so they agree, then stamp again")
        }
        var stamped = manifest
        stamped.library.sha256 = try sha256(ofFile: library)
        if let signer { stamped = try PluginSignature.sign(stamped, key: signer.key, publisher: signer.publisher) }
        return stamped
    }

    /// Writes a manifest as the registry keeps it: pretty JSON, sorted keys.
    public static func write(_ manifest: PluginManifest, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(manifest).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

/// Hex sha256 of a file's contents.
public func sha256(ofFile path: String) throws -> String {
    let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
    return SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
}
