import Foundation
import Testing
import TrellisCore
@testable import TrellisPluginHost

/// The deployment config editor behind `plugins enable|disable` and
/// `keys trust|revoke`: it changes the lines of one value, keeps comments
/// and order everywhere else, and refuses what it cannot prove it changed.
@Suite struct DeploymentConfigEditorTests {
    static let config = """
        # Production deployment
        store: /var/lib/trellis/trellis.db

        plugins:
          # stdout first: the operators read it
          channel.stdout:
            config: { path: out.jsonl }   # rotated daily
          channel.slack:
            enabled: false  # until the token is in
            secrets:
              webhook_url: "${env:SLACK_HOOK}"
          channel.null:
          channel.webhook: {config: {url: "https://hooks.example.com/x"}}

        # the end
        runtime: { lease: 15s }

        """

    func edited(_ text: String = config, _ change: (inout DeploymentConfigEditor) throws -> Void) throws -> String {
        var editor = try DeploymentConfigEditor(text: text, file: "trellis.yaml")
        try change(&editor)
        return editor.text
    }

    @Test func disablingABlockEntryAddsOneLineAtTheEndOfItsBlock() throws {
        let text = try edited { try $0.set(["plugins", "channel.stdout", "enabled"], to: .bool(false)) }
        #expect(text == Self.config.replacingOccurrences(
            of: "    config: { path: out.jsonl }   # rotated daily\n",
            with: "    config: { path: out.jsonl }   # rotated daily\n    enabled: false\n"))
    }

    @Test func replacingAScalarKeepsItsComment() throws {
        let text = try edited { try $0.set(["plugins", "channel.slack", "enabled"], to: .bool(true)) }
        #expect(text == Self.config.replacingOccurrences(of: "enabled: false  # until", with: "enabled: true  # until"))
    }

    @Test func anEmptyEntryGetsAnIndentedChild() throws {
        let text = try edited { try $0.set(["plugins", "channel.null", "enabled"], to: .bool(false)) }
        #expect(text == Self.config.replacingOccurrences(of: "  channel.null:\n", with: "  channel.null:\n    enabled: false\n"))
    }

    @Test func aFlowEntryIsRewrittenWhole() throws {
        let text = try edited { try $0.set(["plugins", "channel.webhook", "enabled"], to: .bool(false)) }
        #expect(text == Self.config.replacingOccurrences(
            of: "  channel.webhook: {config: {url: \"https://hooks.example.com/x\"}}\n",
            with: "  channel.webhook:\n    config:\n      url: \"https://hooks.example.com/x\"\n    enabled: false\n"))
    }

    @Test func aNewPluginGoesAfterTheLastOneAndBeforeTheNextSectionsComment() throws {
        let text = try edited { try $0.set(["plugins", "provider.openai@azure-eu"], to: .object([:])) }
        #expect(text == Self.config.replacingOccurrences(
            of: "{url: \"https://hooks.example.com/x\"}}\n",
            with: "{url: \"https://hooks.example.com/x\"}}\n  provider.openai@azure-eu: {}\n"))
    }

    @Test func missingSectionsAreAddedAtTheEnd() throws {
        let key = "ed25519:" + String(repeating: "A", count: 43) + "="
        let text = try edited {
            try $0.set(["trust", "publishers", "acme"], to: .string(key))
            try $0.set(["trust", "revoked"], to: .array([.string(key)]))
        }
        #expect(text == Self.config.replacingOccurrences(
            of: "runtime: { lease: 15s }\n",
            with: "runtime: { lease: 15s }\ntrust:\n  publishers:\n    acme: \"\(key)\"\n  revoked: [\"\(key)\"]\n"))
        let parsed = try DeploymentConfiguration.parse(text: text, file: "/etc/trellis.yaml", defaultPluginPaths: ["/opt"])
        #expect(parsed.trust.publishers == ["acme": key])
        #expect(parsed.trust.revoked == [key])
    }

    @Test func anEmptyFileGetsItsFirstSection() throws {
        let text = try edited("") { try $0.set(["plugins", "channel.stdout"], to: .object([:])) }
        #expect(text == "plugins:\n  channel.stdout: {}\n")
        #expect(try YAMLDocument(text: text, file: "x").value == .object(["plugins": .object(["channel.stdout": .object([:])])]))
    }

    @Test func keysThatWouldReadAsSomethingElseAreQuoted() throws {
        let text = try edited("plugins:\n  channel.x: {}\n") { try $0.set(["secrets", "true"], to: .string("${env:X}")) }
        #expect(text == "plugins:\n  channel.x: {}\nsecrets:\n  \"true\": \"${env:X}\"\n")
    }

    /// A document written in flow style at the top cannot take a new block
    /// section: the editor proves that and leaves the text alone.
    @Test func whatItCannotProveItRefuses() throws {
        var editor = try DeploymentConfigEditor(text: "{plugins: {channel.x: {}}}\n", file: "trellis.yaml")
        #expect {
            try editor.set(["plugins", "channel.x", "enabled"], to: .bool(false))
        } throws: { error in
            "\(error)".contains("trellis.yaml was left unchanged") && "\(error)".contains("make the change by hand")
        }
        #expect(editor.text == "{plugins: {channel.x: {}}}\n")
    }

    /// A value reached through an alias is written out where it is used;
    /// the anchor and its other users are untouched.
    @Test func anAliasedEntryIsExpandedOnlyWhereItChanges() throws {
        let text = """
            defaults: &pooled {pool: 2}
            plugins:
              channel.a: *pooled
              channel.b: *pooled

            """
        let result = try edited(text) { try $0.set(["plugins", "channel.a", "enabled"], to: .bool(false)) }
        #expect(result == text.replacingOccurrences(of: "  channel.a: *pooled\n", with: "  channel.a:\n    enabled: false\n    pool: 2\n"))
    }

    @Test func writingReplacesTheFileWholeAndKeepsItsMode() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("trellis.yaml", Self.config)
        chmod(path, 0o640)
        var editor = try DeploymentConfigEditor.open(file: path)
        try editor.set(["plugins", "channel.stdout", "enabled"], to: .bool(false))
        try editor.write()
        let written = try String(contentsOfFile: path, encoding: .utf8)
        #expect(written == editor.text)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o640)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["trellis.yaml"])
    }
}
