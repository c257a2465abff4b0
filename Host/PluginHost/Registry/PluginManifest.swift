import Foundation
import TrellisCore

/// What the registry knows about one plugin version, readable without
/// loading its code: identity, ABI, interfaces, the JSON Schema of its
/// config, its permissions and the sha256 of its library.
public struct PluginManifest: Sendable, Codable, Hashable {
    public struct ABI: Sendable, Codable, Hashable {
        public var major: UInt32
        public var minor: UInt32
    }

    public struct Library: Sendable, Codable, Hashable {
        /// The library's file name, looked up in the deployment's plugin paths.
        public var file: String
        /// Hex sha256 of the library; the host refuses a file that differs.
        public var sha256: String?
    }

    public struct Permissions: Sendable, Codable, Hashable {
        /// Hosts the plugin may reach through the host's HTTP service.
        public var egress: [String]
        /// Names of secrets the plugin may ask for.
        public var secrets: [String]

        public init(egress: [String] = [], secrets: [String] = []) {
            self.egress = egress
            self.secrets = secrets
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            egress = try container.decodeIfPresent([String].self, forKey: .egress) ?? []
            secrets = try container.decodeIfPresent([String].self, forKey: .secrets) ?? []
        }
    }

    public struct Publisher: Sendable, Codable, Hashable {
        public var name: String
        /// The public key the manifest was signed with: `ed25519:BASE64`.
        public var key: String?
        /// The Ed25519 signature (base64) of the manifest's canonical form
        /// (see `PluginSignature`), which includes the library's sha256.
        public var signature: String?

        public init(name: String, key: String? = nil, signature: String? = nil) {
            self.name = name
            self.key = key
            self.signature = signature
        }
    }

    public var id: String
    public var kind: PluginKind
    public var version: String
    public var description: String
    public var abi: ABI
    public var interfaces: [String]
    public var library: Library
    public var configSchema: JSONValue
    /// The schema of what a step passes the plugin in `with:` (for a
    /// recovery strategy: its parameters under `recovery:`). Optional.
    public var inputSchema: JSONValue?
    public var permissions: Permissions
    public var publisher: Publisher?
    /// For a recovery strategy that may answer "use the cached output": the
    /// host then keeps the last good output of every step it guards.
    public var usesLastGoodOutput: Bool?
    /// For a channel: where the notification service puts a recipient's
    /// address and a rendered message's fields in the channel's message.
    public var notification: NotificationMapping?

    /// Paths into a channel's message (`data.text` is `text` inside `data`).
    public struct NotificationMapping: Sendable, Codable, Hashable {
        /// Where the recipient's address goes; none for a channel bound to
        /// one destination by its config (a Teams webhook).
        public var address: String?
        /// Where each generic field goes: `subject`, `text`, `html` → path.
        public var fields: [String: String]
        /// Values every message carries (a webhook's event `type`).
        public var fixed: JSONValue?

        public init(address: String?, fields: [String: String], fixed: JSONValue? = nil) {
            self.address = address
            self.fields = fields
            self.fixed = fixed
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, version, description, abi, interfaces, library, permissions, publisher
        case configSchema = "config_schema"
        case inputSchema = "input_schema"
        case usesLastGoodOutput = "uses_last_good_output"
        case notification
    }

    public var semanticVersion: SemanticVersion? { SemanticVersion(version) }

    /// Reads and checks a manifest file.
    public static func load(path: String) throws(PluginLoadError) -> PluginManifest {
        func invalid(_ message: String) -> PluginLoadError {
            PluginLoadError(.manifestInvalid, path: path, message: message,
                            remedy: "Fix the manifest (see docs/abi.md, \"Manifests\")")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw invalid("it cannot be read: \(error.localizedDescription)")
        }
        return try parse(data, path: path)
    }

    /// Reads a manifest from `data` (the contents of `path`, which errors name).
    public static func parse(_ data: Data, path: String) throws(PluginLoadError) -> PluginManifest {
        func invalid(_ message: String) -> PluginLoadError {
            PluginLoadError(.manifestInvalid, path: path, message: message,
                            remedy: "Fix the manifest (see docs/abi.md, \"Manifests\")")
        }
        let manifest: PluginManifest
        // Its syntax first, with the place of a mistake (and bounded depth).
        do {
            _ = try JSONValue(json: data)
        } catch {
            let before = data.prefix(error.offset)
            let line = before.filter { $0 == 0x0A }.count + 1
            let column = before.count - (before.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0) + 1
            throw invalid(data.isEmpty ? "it is empty" : "it is not JSON: \(error.message) at line \(line), column \(column)")
        }
        do {
            manifest = try JSONDecoder().decode(PluginManifest.self, from: data)
        } catch let error as DecodingError {
            throw invalid("it is not a valid manifest: \(describe(error))")
        } catch {
            throw invalid("it cannot be read: \(error.localizedDescription)")
        }
        guard isValidPluginID(manifest.id) else { throw invalid("its id '\(manifest.id)' is not of the form kind.name") }
        guard manifest.id.hasPrefix(manifest.kind.rawValue + ".") else {
            throw invalid("its id '\(manifest.id)' does not start with its kind '\(manifest.kind.rawValue).'")
        }
        guard manifest.semanticVersion != nil else { throw invalid("its version '\(manifest.version)' is not a semantic version") }
        let file = manifest.library.file
        guard !file.isEmpty, !file.contains("/"), file != ".", file != ".." else {
            throw invalid("its library.file '\(file)' must be a file name, without directories: the host looks it up "
                          + "in the deployment's plugin paths, and never outside them")
        }
        if let sha = manifest.library.sha256, sha.count != 64 || !sha.allSatisfy(\.isHexDigit) {
            throw invalid("its library.sha256 is not 64 hex digits")
        }
        do {
            _ = try JSONSchema(manifest.configSchema)
        } catch {
            throw invalid("its config_schema is unusable: \(error)")
        }
        if let inputSchema = manifest.inputSchema {
            do {
                _ = try JSONSchema(inputSchema)
            } catch {
                throw invalid("its input_schema is unusable: \(error)")
            }
        }
        return manifest
    }
}

private func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
        context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
    switch error {
    case .keyNotFound(let key, let context):
        let at = path(context)
        return "missing field '\(key.stringValue)'" + (at.isEmpty ? "" : " in \(at)")
    case .typeMismatch(_, let context), .valueNotFound(_, let context):
        return "\(path(context)): \(context.debugDescription)"
    case .dataCorrupted(let context):
        return "\(path(context).isEmpty ? "" : path(context) + ": ")\(context.debugDescription)"
    @unknown default:
        return "\(error)"
    }
}
