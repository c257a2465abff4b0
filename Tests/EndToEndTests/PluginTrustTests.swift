import Foundation
import Testing

/// Signed plugins and per-deployment trust, through the real binary: a
/// fixture library whose constructor writes a marker file shows whether a
/// refused plugin was ever opened. Every refusal must come before `dlopen`.
@Suite struct PluginTrustTests {
    final class Setup {
        let workspace: Workspace
        let marker: String
        let acme: String
        let mallory: String

        init() throws {
            workspace = try Workspace()
            marker = "\(workspace.path)/marker"
            acme = try Self.key(workspace, "acme")
            mallory = try Self.key(workspace, "mallory")
            try FileManager.default.createDirectory(atPath: "\(workspace.path)/source/analyzer.marker", withIntermediateDirectories: true)
            try workspace.write("source/analyzer.marker/0.0.1.json", """
                {"id": "analyzer.marker", "kind": "analyzer", "version": "0.0.1", "description": "writes a marker when opened",
                 "abi": {"major": 1, "minor": 4}, "interfaces": ["trellis.analyzer/1"],
                 "library": {"file": "libTrellisFixtureMarker.so"}, "config_schema": {"type": "object"}, "permissions": {}}
                """)
        }

        static func key(_ workspace: Workspace, _ name: String) throws -> String {
            let made = try workspace.trellis("keys", "generate", name, "--dir", "keys")
            guard made.status == 0 else { throw WorkspaceError(message: made.stderr) }
            return made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// Stamps the fixture's manifest into `signed/`, signed as `publisher` with `key` (nil: unsigned).
        func stamp(key: String?, publisher: String = "acme", libraries: String = CLI.buildDirectory) throws {
            try? FileManager.default.removeItem(atPath: "\(workspace.path)/signed")
            var arguments = ["registry", "stamp", "--source", "source", "--libraries", libraries, "--output", "signed"]
            if let key { arguments += ["--key", "keys/\(key).key", "--publisher", publisher] }
            let stamped = try CLI.trellis(arguments, in: workspace.path)
            guard stamped.status == 0 else { throw WorkspaceError(message: stamped.stderr) }
        }

        /// Lists the plugin under a deployment that trusts acme; its status, and whether the library was opened.
        func load(trust: String? = nil, plugin: String = "", paths: String? = nil) throws -> (status: [String: Any], opened: Bool) {
            try? FileManager.default.removeItem(atPath: marker)
            try workspace.write("trellis.yaml", """
                registry: [signed]
                \(paths.map { "plugin_paths: [\($0)]" } ?? "")
                trust:
                \(trust ?? "  publishers: { acme: \"\(acme)\" }")
                plugins:
                  analyzer.marker: { \(plugin) }
                """)
            let listed = try workspace.trellis("plugins", "list", "--json", environment: ["TRELLIS_FIXTURE_MARKER": marker])
            let rows = (try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8))) as? [[String: Any]] ?? []
            let status = rows.first { $0["id"] as? String == "analyzer.marker" } ?? ["stdout": listed.stdout, "stderr": listed.stderr]
            return (status, FileManager.default.fileExists(atPath: marker))
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func aTrustedSignatureLoadsAndEveryOtherCaseIsRefusedBeforeTheLibraryOpens() throws {
        let setup = try Setup()

        try setup.stamp(key: "acme")
        let trusted = try setup.load()
        #expect(trusted.status["state"] as? String == "ok", "\(trusted.status)")
        #expect(trusted.opened, "the marker shows an opened library (so its absence below means something)")

        func expectRefused(_ result: (status: [String: Any], opened: Bool), _ code: String, _ words: String,
                           sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(result.status["error_code"] as? String == code, "\(result.status)", sourceLocation: sourceLocation)
            #expect((result.status["reason"] as? String)?.contains(words) == true, "\(result.status)", sourceLocation: sourceLocation)
            #expect(!result.opened, "refused, and never opened", sourceLocation: sourceLocation)
        }

        // Revoked: acme's key is trusted by name but revoked.
        expectRefused(try setup.load(trust: "  publishers: { acme: \"\(setup.acme)\" }\n  revoked: [\"\(setup.acme)\"]"),
                      "revoked_key", "revoked")

        // One changed byte in the signed manifest.
        let manifest = "\(setup.workspace.path)/signed/analyzer.marker/0.0.1.json"
        let signed = try String(contentsOfFile: manifest, encoding: .utf8)
        try signed.replacingOccurrences(of: "writes a marker", with: "writes a markeR").write(toFile: manifest, atomically: true, encoding: .utf8)
        expectRefused(try setup.load(), "bad_signature", "changed after acme signed it")

        // One flipped byte in the library: a copy beside the signed manifest's original.
        try setup.stamp(key: "acme")
        let copies = "\(setup.workspace.path)/libs"
        try FileManager.default.createDirectory(atPath: copies, withIntermediateDirectories: true)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: "\(CLI.buildDirectory)/libTrellisFixtureMarker.so"))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: "\(copies)/libTrellisFixtureMarker.so"))
        expectRefused(try setup.load(paths: copies), "checksum_mismatch", "sha256")

        // Unsigned, where the deployment trusts publishers.
        try setup.stamp(key: nil)
        expectRefused(try setup.load(), "unsigned", "not signed")
        let allowed = try setup.load(plugin: "allow_unsigned: true")
        #expect(allowed.status["state"] as? String == "ok")
        #expect(allowed.status["unsigned_allowed"] as? Bool == true, "flagged")
        let listed = try setup.workspace.trellis("plugins", "list", environment: ["TRELLIS_FIXTURE_MARKER": setup.marker])
        #expect(listed.stdout.contains("UNSIGNED"), "\(listed.stdout)")

        // Signed by a publisher the deployment does not trust.
        try setup.stamp(key: "mallory", publisher: "mallory")
        expectRefused(try setup.load(), "untrusted_publisher", "'mallory' is not one this deployment trusts")

        // Signed by mallory, claiming to be acme.
        try setup.stamp(key: "mallory", publisher: "acme")
        expectRefused(try setup.load(), "bad_signature", "signed with another key")
    }

    @Test func keysAndSigningSayWhatIsWrong() throws {
        let setup = try Setup()
        let again = try setup.workspace.trellis("keys", "generate", "acme", "--dir", "keys")
        #expect(again.status != 0)
        #expect(again.stderr.contains("a key is never overwritten"))
        let mode = try FileManager.default.attributesOfItem(atPath: "\(setup.workspace.path)/keys/acme.key")[.posixPermissions] as? Int
        #expect(mode == 0o600, "the private key is the owner's alone")
        let listed = try setup.workspace.trellis("keys", "list", "--dir", "keys")
        #expect(listed.stdout.contains("acme  \(setup.acme)"))
        // A manifest without its sha256 cannot be signed.
        let unsigned = try setup.workspace.trellis("plugins", "sign", "source/analyzer.marker/0.0.1.json", "--key", "keys/acme.key",
                                                   "--publisher", "acme")
        #expect(unsigned.status != 0)
        #expect(unsigned.stderr.contains("record the library's sha256 before signing"))
        // A public key where a private one belongs.
        let wrongKey = try setup.workspace.trellis("registry", "stamp", "--source", "source", "--libraries", CLI.buildDirectory,
                                                   "--output", "signed", "--key", "keys/acme.pub", "--publisher", "acme")
        #expect(wrongKey.status != 0)
        #expect(wrongKey.stderr.contains("does not hold an Ed25519 private key"))
        // A trusted key that is not one.
        try setup.workspace.write("trellis.yaml", "registry: [signed]\ntrust:\n  publishers: { acme: \"not-a-key\" }\n")
        let bad = try setup.workspace.trellis("plugins", "list")
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("is not an Ed25519 public key"))
    }
}
