import Foundation
import Testing
import TrellisPluginHost

/// A publisher packs signed versions of a plugin; an admin trusts the
/// publisher, installs, enables, upgrades, disables and revokes — all
/// through the real binary, against a C plugin built here with `make`.
@Suite struct PluginInstallTests {
    /// A C channel made by `plugins new`, built at `version` and packed into
    /// dist/ (signed with `key`, or stamped unsigned when nil).
    static func publish(_ workspace: Workspace, version: String, key: String?) async throws {
        let directory = "\(workspace.path)/acme"
        if !FileManager.default.fileExists(atPath: directory) {
            let made = try workspace.trellis("plugins", "new", "channel", "channel.acme", "--lang", "c", "--dir", "acme")
            guard made.status == 0 else { throw WorkspaceError(message: made.stderr) }
        }
        for file in ["acme/ChannelAcme.c", "acme/registry/channel.acme/0.1.0.json"] {
            let path = "\(workspace.path)/\(file)"
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let replaced = try text.replacing(Regex(#"(version\[\] = "|"version": ")[0-9.]+""#)) { match in
                "\(match.output[1].substring ?? "")\(version)\""
            }
            try replaced.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let built = try await CLI.runOffPool("/usr/bin/env", ["make", "-B"], in: directory)
        guard built.status == 0 else { throw WorkspaceError(message: built.stdout + built.stderr) }
        if let key {
            let packed = try workspace.trellis("plugins", "pack", "acme/libChannelAcme.so", "acme/registry/channel.acme/0.1.0.json",
                                               "--key", "keys/\(key).key", "--output", "dist")
            guard packed.status == 0 else { throw WorkspaceError(message: packed.stderr) }
        } else {
            let stamped = try workspace.trellis("registry", "stamp", "--source", "acme/registry", "--libraries", "acme", "--output", "dist")
            guard stamped.status == 0 else { throw WorkspaceError(message: stamped.stderr) }
            try FileManager.default.createDirectory(atPath: "\(workspace.path)/dist/channel.acme/\(version)", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "\(directory)/libChannelAcme.so", toPath: "\(workspace.path)/dist/channel.acme/\(version)/libChannelAcme.so")
        }
    }

    static let deployment = """
        # acme's plugins, installed from their packages
        plugin_paths: [plugins]
        registry: [installed]   # manifests of installed plugins
        store: trellis.db

        plugins:
          # the null channel stays off
          channel.null:
            enabled: false
        """

    func listed(_ workspace: Workspace) throws -> [String: [String: Any]] {
        let listed = try workspace.trellis("plugins", "list", "--json")
        let rows = (try json(listed.stdout) as? [[String: Any]]) ?? []
        return Dictionary(uniqueKeysWithValues: rows.map { ($0["id"] as? String ?? "", $0) })
    }

    @Test(.timeLimit(.minutes(3)))
    func trustInstallEnableUpgradeDisableRevoke() async throws {
        let workspace = try Workspace()
        for name in ["acme", "mallory"] {
            let made = try workspace.trellis("keys", "generate", name, "--dir", "keys")
            #expect(made.status == 0, "\(made.stderr)")
        }
        try await Self.publish(workspace, version: "0.1.0", key: "acme")
        try await Self.publish(workspace, version: "0.2.0", key: "acme")
        try await Self.publish(workspace, version: "0.3.0", key: "mallory")
        try await Self.publish(workspace, version: "0.4.0", key: nil)
        try workspace.write("trellis.yaml", Self.deployment)

        let trusted = try workspace.trellis("keys", "trust", "acme", "keys/acme.pub")
        #expect(trusted.status == 0, "\(trusted.stderr)")
        #expect(trusted.stdout.contains("now loads only signed plugins"))

        // A version range picks 0.1.0 out of four.
        let installed = try workspace.trellis("plugins", "install", "channel.acme@0.1", "--from", "dist")
        #expect(installed.status == 0, "\(installed.stderr)")
        #expect(installed.stdout.contains("installed channel.acme 0.1.0 signed by acme"), "\(installed.stdout)")
        #expect(installed.stdout.contains("enable it with: trellis plugins enable channel.acme"))
        #expect(FileManager.default.fileExists(atPath: "\(workspace.path)/plugins/libChannelAcme.so"))
        #expect(try listed(workspace)["channel.acme"]?["state"] as? String == "disabled", "installed, not yet enabled")

        let enabled = try workspace.trellis("plugins", "enable", "channel.acme")
        #expect(enabled.status == 0, "\(enabled.stderr)")
        let called = try workspace.trellis("plugins", "call", "channel.acme", "--input", #"{"text": "hi"}"#)
        #expect(called.status == 0, "\(called.stderr)")
        #expect(called.stdout.contains("delivered"), "\(called.stdout)")

        // Upgrade passes over 0.4.0 (unsigned) and 0.3.0 (mallory is not trusted) and takes 0.2.0.
        let upgraded = try workspace.trellis("plugins", "upgrade", "--from", "dist")
        #expect(upgraded.status == 0, "\(upgraded.stdout)\(upgraded.stderr)")
        #expect(upgraded.stdout.contains("skipped 0.4.0 is unsigned"), "\(upgraded.stdout)")
        #expect(upgraded.stdout.contains("skipped 0.3.0: its publisher 'mallory' is not one this deployment trusts"), "\(upgraded.stdout)")
        #expect(upgraded.stdout.contains("channel.acme 0.1.0 → 0.2.0 signed by acme"), "\(upgraded.stdout)")
        #expect(upgraded.stdout.contains("removed:  \(workspace.path)/installed/channel.acme/0.1.0.json"), "\(upgraded.stdout)")
        #expect(try listed(workspace)["channel.acme"]?["version"] as? String == "0.2.0")
        let again = try workspace.trellis("plugins", "upgrade", "--from", "dist")
        #expect(again.stdout.contains("channel.acme 0.2.0 is up to date"), "\(again.stdout)")

        // A package whose library changed after packing is refused and installs nothing.
        let packaged = "\(workspace.path)/dist/channel.acme/0.1.0/libChannelAcme.so"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: packaged))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: packaged))
        let tampered = try workspace.trellis("plugins", "install", "channel.acme@0.1.0", "--from", "dist")
        #expect(tampered.status == 1)
        #expect(tampered.stderr.contains("channel.acme was not installed") && tampered.stderr.contains("changed after packing"),
                "\(tampered.stderr)")
        #expect(try listed(workspace)["channel.acme"]?["version"] as? String == "0.2.0", "the installed version stays")

        // Disable keeps every comment and the order; only one line changes.
        let disabled = try workspace.trellis("plugins", "disable", "channel.acme")
        #expect(disabled.status == 0, "\(disabled.stderr)")
        let config = try String(contentsOfFile: "\(workspace.path)/trellis.yaml", encoding: .utf8)
        #expect(config.hasPrefix(Self.deployment + "\n  channel.acme:\n    enabled: false\ntrust:\n  publishers:\n    acme: "), "\(config)")
        #expect(try listed(workspace)["channel.acme"]?["state"] as? String == "disabled")
        #expect(try workspace.trellis("plugins", "enable", "channel.acme").status == 0)

        // Revoking acme's key refuses what it signed.
        let revoked = try workspace.trellis("keys", "revoke", "acme")
        #expect(revoked.status == 0, "\(revoked.stderr)")
        #expect(revoked.stdout.contains("channel.acme 0.2.0 is signed by it and will be refused"), "\(revoked.stdout)")
        #expect(try listed(workspace)["channel.acme"]?["error_code"] as? String == "revoked_key")
        let retrust = try workspace.trellis("keys", "trust", "acme", "keys/acme.pub")
        #expect(retrust.status == 1 && retrust.stderr.contains("that key is revoked"), "\(retrust.stderr)")
    }

    /// Install verifies without opening the library: a fixture whose
    /// constructor writes a marker file leaves none behind.
    @Test func installNeverOpensTheLibrary() throws {
        let workspace = try Workspace()
        let marker = "\(workspace.path)/marker"
        #expect(try workspace.trellis("keys", "generate", "acme", "--dir", "keys").status == 0)
        try FileManager.default.createDirectory(atPath: "\(workspace.path)/source", withIntermediateDirectories: true)
        try workspace.write("source/marker.json", """
            {"id": "analyzer.marker", "kind": "analyzer", "version": "0.0.1", "description": "writes a marker when opened",
             "abi": {"major": 1, "minor": 4}, "interfaces": ["trellis.analyzer/1"],
             "library": {"file": "libTrellisFixtureMarker.so"}, "config_schema": {"type": "object"}, "permissions": {}}
            """)
        let packed = try workspace.trellis("plugins", "pack", "\(CLI.buildDirectory)/libTrellisFixtureMarker.so", "source/marker.json",
                                           "--key", "keys/acme.key", "--output", "dist", environment: ["TRELLIS_FIXTURE_MARKER": marker])
        #expect(packed.status == 0, "\(packed.stderr)")
        #expect(FileManager.default.fileExists(atPath: marker), "pack opens the library to check it (so the marker's absence below means something)")
        try FileManager.default.removeItem(atPath: marker)

        try workspace.write("trellis.yaml", "plugin_paths: [plugins]\nregistry: [installed]\n")
        let installed = try workspace.trellis("plugins", "install", "analyzer.marker", "--from", "dist",
                                              environment: ["TRELLIS_FIXTURE_MARKER": marker])
        #expect(installed.status == 0, "\(installed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: marker), "install verified the package without opening the library")

        // A signature that no longer matches: one changed byte in the manifest.
        let manifest = "\(workspace.path)/dist/analyzer.marker/0.0.1.json"
        let text = try String(contentsOfFile: manifest, encoding: .utf8)
        try text.replacingOccurrences(of: "writes a marker", with: "writes a Marker").write(toFile: manifest, atomically: true, encoding: .utf8)
        let refused = try workspace.trellis("plugins", "install", "analyzer.marker", "--from", "dist")
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("signature does not match the manifest"), "\(refused.stderr)")
    }

    @Test func badArgumentsAndMissingPackagesSayWhatToDo() throws {
        let workspace = try Workspace()
        try FileManager.default.createDirectory(atPath: "\(workspace.path)/empty", withIntermediateDirectories: true)
        let range = try workspace.trellis("plugins", "install", "channel.x@azure", "--from", "empty")
        #expect(range.status != 0 && range.stderr.contains("'azure' after the '@' is not a version range"), "\(range.stderr)")
        let folder = try workspace.trellis("plugins", "install", "channel.x", "--from", "nowhere")
        #expect(folder.status == 1 && folder.stderr.contains("no package folder at nowhere"), "\(folder.stderr)")
        let none = try workspace.trellis("plugins", "install", "channel.x", "--from", "empty")
        #expect(none.status == 1 && none.stderr.contains("no package of channel.x in empty (it holds none)"), "\(none.stderr)")
        try workspace.config("  channel.stdout:")
        let unknown = try workspace.trellis("plugins", "disable", "channel.stdot")
        #expect(unknown.status == 1 && unknown.stderr.contains("did you mean 'channel.stdout'?"), "\(unknown.stderr)")
        let notLoading = try workspace.trellis("plugins", "enable", "channel.nothere")
        #expect(notLoading.status == 1 && notLoading.stderr.contains("was left unchanged"), "\(notLoading.stderr)")
        #expect(try String(contentsOfFile: "\(workspace.path)/trellis.yaml", encoding: .utf8) == "registry: [registry]\nplugins:\n  channel.stdout:\n")
        let badKey = try workspace.trellis("keys", "trust", "acme", "ed25519:nope")
        #expect(badKey.status != 0 && badKey.stderr.contains("neither a public key"), "\(badKey.stderr)")
    }
}
