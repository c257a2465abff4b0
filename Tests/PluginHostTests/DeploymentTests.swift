import Foundation
import Testing
import TrellisCore
@testable import TrellisPluginHost

/// The deployment config: parsing, schema validation of plugin configs
/// (before dlopen), secrets, disabled plugins, version ranges.
@Suite struct DeploymentTests {
    /// The ids of every bundled plugin, from the checkout's registry.
    static let bundledIDs: [String] = ((try? FileManager.default.contentsOfDirectory(
        atPath: "\(BuildProducts.packageRoot)/registry")) ?? []).sorted()

    @Test func everyBundledPluginLoadsUnderAStampedRegistry() throws {
        let deployment = try StampedDeployment()
        #expect(Self.bundledIDs.count >= 5)
        let hook = try deployment.directory.write("slack-hook", "https://hooks.slack.com/services/T0/B0/x")
        // Plugins with required settings get the least that satisfies them.
        let settings = [
            "analyzer.whitespace": "{ config: { max_token_length: 8 } }",
            "analyzer.regex": "{ config: { pattern: \"[a-z]+\" } }",
            "channel.email": "{ config: { url: \"smtp://127.0.0.1:2525\", from: trellis@example.com } }",
            "channel.push": "{ config: { server: \"https://ntfy.sh\" } }",
            "channel.github": "{ config: { repository: acme/web }, secrets: { token: \"${file:\(hook)}\" } }",
            "channel.slack": "{ secrets: { webhook_url: \"${file:\(hook)}\" } }",
            "channel.sms": "{ config: { account_sid: AC1, from: \"+15550001111\" }, secrets: { auth_token: \"${file:\(hook)}\" } }",
            "channel.teams": "{ secrets: { webhook_url: \"${file:\(hook)}\" } }",
            "provider.anthropic": "{ secrets: { api_key: \"${file:\(hook)}\" } }",
            "provider.gemini": "{ secrets: { api_key: \"${file:\(hook)}\" } }",
        ]
        let yaml = "plugins:\n" + Self.bundledIDs.map { "  \($0): \(settings[$0] ?? "")\n" }.joined()
        let statuses = PluginManager(configuration: try deployment.configuration(yaml), logger: testLogger).loadAll()
        #expect(statuses.map(\.id) == Self.bundledIDs)
        for status in statuses { #expect(status.state == .ok, "\(status)") }
    }

    /// A manifest that does not describe its library is refused, naming the field.
    @Test(arguments: [
        (#""abi": {"major": 1, "minor": 4}"#, #""abi": {"major": 1, "minor": 3}"#, "built for plugin ABI 1.4, but its manifest says 1.3"),
        (#""interfaces": ["trellis.channel/1", "trellis.health/1"]"#, #""interfaces": ["trellis.channel/1"]"#,
         "the manifest does not list trellis.health/1"),
        (#""interfaces": ["trellis.channel/1", "trellis.health/1"]"#,
         #""interfaces": ["trellis.channel/1", "trellis.health/1", "trellis.provider/1"]"#, "the library does not offer trellis.provider/1"),
        (#""version": "1.0.0""#, #""version": "1.0.1""#, "the library's version is '1.0.0', but its manifest says '1.0.1'"),
    ])
    func aManifestThatDisagreesWithItsLibraryIsRefused(field: String, replacement: String, message: String) throws {
        let deployment = try StampedDeployment()
        let file = "\(deployment.registry)/channel.stdout/1.0.0.json"
        let original = try String(contentsOfFile: file, encoding: .utf8)
        let compact = try JSONValue(json: Array(original.utf8)).jsonString()
        #expect(compact.contains(field.replacingOccurrences(of: " ", with: "")), "the stamped manifest has \(field)")
        let changed = compact.replacingOccurrences(of: field.replacingOccurrences(of: " ", with: ""),
                                                   with: replacement.replacingOccurrences(of: " ", with: ""))
        try changed.write(toFile: file.replacingOccurrences(of: "1.0.0.json", with: changed.contains("1.0.1") ? "1.0.1.json" : "1.0.0.json"),
                          atomically: true, encoding: .utf8)
        if changed.contains("1.0.1") { try FileManager.default.removeItem(atPath: file) }
        let manager = PluginManager(configuration: try deployment.configuration("plugins:\n  channel.stdout:\n"), logger: testLogger)
        let status = try #require(manager.loadAll().first { $0.id == "channel.stdout" })
        #expect(status.state == .error)
        #expect(status.errorCode == "manifest_mismatch", "\(status)")
        #expect(status.reason?.contains(message) == true, "\(status.reason ?? "")")
    }

    @Test func aPluginMayHaveNamedInstancesAndABadNameIsRefused() throws {
        let deployment = try StampedDeployment()
        let manager = PluginManager(configuration: try deployment.configuration("""
            plugins:
              channel.stdout:
              channel.stdout@audit:
                config: { label: audit }
            """), logger: testLogger)
        let statuses = manager.loadAll()
        #expect(statuses.first { $0.id == "channel.stdout@audit" }?.state == .ok, "\(statuses)")
        let audit = try #require(manager.instance("channel.stdout@audit"))
        #expect(audit.info.id == "channel.stdout", "the same library, under another name")
        #expect(manager.instance("channel.stdout") !== audit, "each instance of its own")
        #expect(manager.manifest(of: "channel.stdout@audit")?.id == "channel.stdout")
        for bad in ["Channel.stdout", "channel.stdout@", "channel.stdout@EU", "channel.stdout@a@b", "stdout"] {
            let error = try #require(throws: DeploymentConfigurationError.self) {
                try deployment.configuration("plugins:\n  \"\(bad)\":\n")
            }
            #expect(error.description.contains("is not a plugin id"), "\(bad): \(error)")
        }
    }

    @Test func yamlSyntaxErrorsPointAtTheLine() throws {
        do {
            _ = try DeploymentConfiguration.parse(text: "plugins:\n  channel.stdout: [\n", file: "bad.yaml",
                                                  defaultPluginPaths: [])
            Issue.record("invalid YAML must be refused")
        } catch {
            #expect(error.problems.first?.hasPrefix("bad.yaml:") == true)
        }
    }

    @Test func unknownFieldsAreRefusedWithASuggestion() throws {
        do {
            _ = try DeploymentConfiguration.parse(text: """
                plugins:
                  channel.stdout:
                    enabeld: true
                """, file: "t.yaml", defaultPluginPaths: [])
            Issue.record("an unknown field must be refused")
        } catch {
            let problem = try #require(error.problems.first)
            #expect(problem.hasPrefix("t.yaml:3:5"), "\(problem)")
            #expect(problem.contains("did you mean 'enabled'"))
        }
    }

    /// Egress entries are checked where they are written: a URL, a bad port,
    /// a wildcard that is not *.domain, a space, and `*` itself are refused.
    @Test func badEgressEntriesAreRefusedWithTheirPlaces() throws {
        let text = """
            plugins:
              channel.webhook:
                egress: ["http://127.0.0.1/x", "host:99999", "*.*", "a b", "*", "127.0.0.1:8080", "*.example.com", "[::1]:25", "hooks.slack.com"]
            """
        do {
            _ = try DeploymentConfiguration.parse(text: text, file: "t.yaml", defaultPluginPaths: [])
            Issue.record("bad egress entries were accepted")
        } catch {
            #expect(error.problems.count == 5, "\(error.problems)")
            #expect(error.problems.contains { $0.hasPrefix("t.yaml:3:") && $0.contains("'http://127.0.0.1/x' is a URL") })
            #expect(error.problems.contains { $0.contains("'host:99999' has a port that is not a number from 1 to 65535") })
            #expect(error.problems.contains { $0.contains("'*.*' is not a host name") })
            #expect(error.problems.contains { $0.contains("'a b' is not a host name") })
            #expect(error.problems.contains { $0.contains("'*' would let the plugin reach any host") })
        }
    }

    @Test func aMissingCAFileIsRefusedAtLoad() throws {
        do {
            _ = try DeploymentConfiguration.parse(text: "http: { ca_file: /nowhere/ca.pem }\n", file: "/tmp/t.yaml", defaultPluginPaths: [])
            Issue.record("a missing ca_file was accepted")
        } catch {
            #expect(error.problems.first?.contains("t.yaml:1:9: http.ca_file /nowhere/ca.pem does not exist or cannot be read") == true,
                    "\(error.problems)")
        }
    }

    @Test func badVersionRangeIsRefused() throws {
        #expect(throws: DeploymentConfigurationError.self) {
            try DeploymentConfiguration.parse(text: "plugins:\n  channel.stdout: { version: \"^one\" }\n",
                                              file: "t.yaml", defaultPluginPaths: [])
        }
    }

    @Test func configIsValidatedAgainstTheSchemaBeforeTheLibraryIsOpened() throws {
        let deployment = try StampedDeployment()
        // The path points at a library that would fail both the checksum and
        // dlopen: the config error is what is reported, so it came first.
        let manager = PluginManager(configuration: try deployment.configuration("""
            plugins:
              analyzer.whitespace:
                path: \(BuildProducts.library("TrellisFixtureWrongMajor"))
                config:
                  max_token_length: "long"
                  colour: blue
            """), logger: testLogger)
        let status = try #require(manager.loadAll().first { $0.id == "analyzer.whitespace" })
        #expect(status.errorCode == "config_invalid")
        let reason = try #require(status.reason)
        #expect(reason.contains("trellis.yaml:5:7: config/max_token_length: expected integer, got string"), "\(reason)")
        #expect(reason.contains("config/colour: unknown field 'colour'"), "\(reason)")
    }

    @Test func disabledPluginsAreNeverOpened() throws {
        let deployment = try StampedDeployment()
        try deployment.addFixtureManifest(id: "analyzer.broken", product: "TrellisFixtureWrongMajor")
        let yaml = """
            plugins:
              analyzer.broken:
                enabled: ENABLED
            """
        let disabled = PluginManager(configuration: try deployment.configuration(yaml.replacingOccurrences(
            of: "ENABLED", with: "false")), logger: testLogger).loadAll()
        let broken = try #require(disabled.first { $0.id == "analyzer.broken" })
        #expect(broken.state == .disabled)
        #expect(broken.reason == "enabled: false in the deployment config")
        // Enabled, the same entry fails when dlopen reads its descriptor: the
        // library really is broken, so the disabled run proves it was never opened.
        let enabled = PluginManager(configuration: try deployment.configuration(yaml.replacingOccurrences(
            of: "ENABLED", with: "true")), logger: testLogger).loadAll()
        #expect(enabled.first { $0.id == "analyzer.broken" }?.errorCode == "abi_major_mismatch")
    }

    @Test func pluginsNotListedInTheConfigAreDisabled() throws {
        let deployment = try StampedDeployment()
        let statuses = PluginManager(configuration: try deployment.configuration("plugins: {}\n"), logger: testLogger).loadAll()
        #expect(statuses.map(\.id) == Self.bundledIDs)
        #expect(statuses.allSatisfy { $0.state == .disabled && !$0.required })
    }

    @Test func secretsResolveFromTheEnvironmentAndNeverAppearInStatuses() throws {
        let deployment = try StampedDeployment()
        let output = deployment.directory.file("out.jsonl")
        let configuration = try deployment.configuration("""
            plugins:
              channel.stdout:
                config:
                  label: "${env:TRELLIS_TEST_LABEL}"
                  path: \(output)
              provider.offline:
                config:
                  prefix: "${env:TRELLIS_TEST_UNSET_VARIABLE}"
            """)
        let secret = "s3cr3t-\(UUID().uuidString)"
        let manager = PluginManager(configuration: configuration,
                                    secrets: SecretResolver(environment: ["TRELLIS_TEST_LABEL": secret]), logger: testLogger)
        let statuses = manager.loadAll()
        let provider = try #require(statuses.first { $0.id == "provider.offline" })
        #expect(provider.errorCode == "secret_missing")
        #expect(provider.reason?.contains("${env:TRELLIS_TEST_UNSET_VARIABLE}") == true)
        #expect(provider.reason?.contains("trellis.yaml:8:") == true, "\(provider.reason ?? "")")

        // The resolved value reached the plugin, and no status shows it.
        let encoded = String(decoding: try JSONEncoder().encode(statuses), as: UTF8.self)
        #expect(!encoded.contains(secret))
        _ = try #require(manager.instance("channel.stdout")).send(["text": "x"])
        let line = try JSONValue(json: Data(contentsOf: URL(fileURLWithPath: output)))
        #expect(line["channel"] == .string(secret))
    }

    @Test func secretReferencesFromFiles() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("token", "from-a-file\n")
        let resolver = SecretResolver(environment: ["A": "x"])
        #expect(try resolver.resolve("${env:A}-${file:\(file)}", pluginID: "p.q", at: "here") == "x-from-a-file")
        #expect(throws: PluginLoadError.self) { try resolver.resolve("${env:A", pluginID: "p.q", at: "here") }
        #expect(throws: PluginLoadError.self) { try resolver.resolve("${vault:A}", pluginID: "p.q", at: "here") }
        do {
            _ = try resolver.resolve("${env:}", pluginID: "p.q", at: "t.yaml:3:5")
            Issue.record("an empty variable name was accepted")
        } catch {
            #expect(error.message == "t.yaml:3:5: ${env:} names no environment variable")
            #expect(error.remedy == "Write ${env:NAME} with the variable's name")
        }
    }

    @Test func versionRangesPickAMatchingManifest() throws {
        let deployment = try StampedDeployment()
        let none = PluginManager(configuration: try deployment.configuration("""
            plugins:
              channel.stdout: { version: "^2" }
            """), logger: testLogger).loadAll().first { $0.id == "channel.stdout" }
        #expect(none?.errorCode == "manifest_missing")
        #expect(none?.reason?.contains("available: 1.0.0") == true)
    }

    @Test func unknownPluginIsAnError() throws {
        let deployment = try StampedDeployment()
        let status = PluginManager(configuration: try deployment.configuration("plugins:\n  channel.nope:\n"),
                                   logger: testLogger).loadAll().first { $0.id == "channel.nope" }
        #expect(status?.state == .error)
        #expect(status?.errorCode == "manifest_missing")
    }

    @Test func unstampedManifestIsRefused() throws {
        let deployment = try StampedDeployment()
        let manager = PluginManager(configuration: try deployment.configuration("""
            registry: [\(BuildProducts.packageRoot)/registry]
            plugins:
              channel.stdout:
            """), logger: testLogger)
        let status = manager.loadAll().first { $0.id == "channel.stdout" }
        #expect(status?.errorCode == "checksum_mismatch")
        #expect(status?.reason?.contains("trellis registry stamp") == true)
    }

    @Test func brokenManifestsAreReportedNotFatal() throws {
        let directory = try TemporaryDirectory()
        try directory.write("registry/channel.x/1.0.0.json", "{ \"id\": \"channel.x\" }")
        let registry = PluginRegistry(directories: [directory.file("registry")])
        #expect(registry.ids.isEmpty)
        #expect(registry.problems.first?.code == .manifestInvalid)
        #expect(registry.problems.first?.message.contains("missing field") == true)
    }

    /// A manifest cannot point its library outside the plugin paths.
    @Test(arguments: ["../../etc/passwd", "../lib.so", "/usr/lib/libc.so.6", "sub/lib.so", ""])
    func aLibraryFileWithDirectoriesIsAnInvalidManifest(file: String) throws {
        let directory = try TemporaryDirectory()
        try directory.write("registry/channel.x/1.0.0.json", """
            {"id": "channel.x", "kind": "channel", "version": "1.0.0", "description": "x",
             "abi": {"major": 1, "minor": 0}, "interfaces": ["trellis.channel/1"],
             "library": {"file": "\(file)"}, "config_schema": {"type": "object"}, "permissions": {}}
            """)
        let registry = PluginRegistry(directories: [directory.file("registry")])
        #expect(registry.ids.isEmpty)
        #expect(registry.problems.first?.code == .manifestInvalid)
        #expect(registry.problems.first?.message.contains("must be a file name, without directories") == true,
                "\(registry.problems.first?.message ?? "")")
    }

    /// A manifest that is there but cannot be read is reported as invalid,
    /// with why and where, not as missing.
    @Test(arguments: [
        ("{ \"id\": \"channel.x\",\n  }", "it is not JSON: expected a member name in quotes at line 2, column 3"),
        ("", "it is empty"),
        (String(repeating: "[", count: 600), "nested more than 512 levels deep"),
        ("{\"id\": \"channel.y\", \"kind\": \"channel\", \"version\": \"1.0.0\", \"description\": \"y\", \"abi\": {\"major\": 1, \"minor\": 0}, \"interfaces\": [], \"library\": {\"file\": \"liby.so\"}, \"config_schema\": {}, \"permissions\": {}}",
         "its id 'channel.y' differs from its folder 'channel.x'"),
    ])
    func anInvalidManifestIsReportedAsInvalidNotMissing(text: String, reason: String) throws {
        let directory = try TemporaryDirectory()
        try directory.write("registry/channel.x/1.0.0.json", text)
        let configuration = try DeploymentConfiguration.parse(
            text: "registry: [\(directory.file("registry"))]\nplugins:\n  channel.x:\n", file: directory.file("trellis.yaml"),
            defaultPluginPaths: [BuildProducts.directory])
        let manager = PluginManager(configuration: configuration, logger: testLogger)
        let status = try #require(manager.loadAll().first { $0.id == "channel.x" })
        #expect(status.errorCode == "manifest_invalid")
        #expect(status.reason?.contains(reason) == true, "\(status.reason ?? "")")
        #expect(status.path?.hasSuffix("channel.x/1.0.0.json") == true)
    }
}
