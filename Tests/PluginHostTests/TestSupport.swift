import Foundation
import Synchronization
import Logging
import Testing
@testable import TrellisPluginHost
import TrellisTestSupport

/// Where `swift build` put the plugin libraries: next to the test bundle.
enum BuildProducts {
    static let directory: String = {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().path
    }()

    /// The path of a library product built by this package.
    static func library(_ product: String) -> String {
        "\(directory)/lib\(product).so"
    }

    /// The checkout's root.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
}

/// A temporary directory removed when the test ends.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let target = file(name)
        try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: target).deletingLastPathComponent().path,
                                                withIntermediateDirectories: true)
        try text.write(toFile: target, atomically: true, encoding: .utf8)
        return target
    }
}

let testLogger = Logger(label: "trellis.tests")

/// Loads a library and expects the loader to refuse it with `code`.
func expectRefusal(_ path: String, _ code: PluginLoadError.Code,
                   sourceLocation: SourceLocation = #_sourceLocation) throws -> PluginLoadError {
    let result = Result { () throws(PluginLoadError) in try PluginLibrary.open(path: path) }
    switch result {
    case .success(let library):
        Issue.record("expected \(code), but \(library.info.id) loaded", sourceLocation: sourceLocation)
        throw LoadedUnexpectedly()
    case .failure(let error):
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        return error
    }
}

/// A deployment whose registry holds the bundled manifests, stamped with
/// the sha256 of the libraries this build produced.
struct StampedDeployment {
    let directory: TemporaryDirectory
    let registry: String

    init() throws {
        directory = try TemporaryDirectory()
        registry = directory.file("registry")
        try PluginRegistry.stamp(source: "\(BuildProducts.packageRoot)/registry", libraries: BuildProducts.directory,
                                 output: registry)
    }

    /// Adds a manifest for a fixture library (an analyzer that takes any
    /// config) to this deployment's registry, with the library's sha256
    /// written in by hand: `stamp` refuses a broken library, and these are.
    func addFixtureManifest(id: String, product: String) throws {
        let file = "lib\(product).so"
        let sha = try sha256(ofFile: "\(BuildProducts.directory)/\(file)")
        try directory.write("registry/\(id)/0.0.1.json", """
            {"id": "\(id)", "kind": "analyzer", "version": "0.0.1", "description": "fixture",
             "abi": {"major": 1, "minor": 0}, "interfaces": ["trellis.analyzer/1"],
             "library": {"file": "\(file)", "sha256": "\(sha)"}, "config_schema": {"type": "object"}, "permissions": {}}
            """)
    }

    /// Parses `yaml` as the deployment config, with this registry and the build's plugin path.
    func configuration(_ yaml: String) throws -> DeploymentConfiguration {
        let file = try directory.write("trellis.yaml", yaml)
        var configuration = try DeploymentConfiguration.parse(text: yaml, file: file,
                                                              defaultPluginPaths: [BuildProducts.directory])
        if !yaml.contains("registry:") { configuration.registryPaths = [registry] }
        return configuration
    }
}

struct LoadedUnexpectedly: Error {}

/// What a loopback server received, shared with its handler.
final class ReceivedRequests: Sendable {
    private let requests = Mutex<[LoopbackHTTPServer.Request]>([])

    func append(_ request: LoopbackHTTPServer.Request) {
        requests.withLock { $0.append(request) }
    }

    var all: [LoopbackHTTPServer.Request] { requests.withLock { $0 } }
    var first: LoopbackHTTPServer.Request? { all.first }
}

extension StampedDeployment {
    /// Loads one bundled plugin the way a deployment does: `config` as YAML
    /// flow text, each secret written to a file and granted as `${file:…}`,
    /// and the hosts it may reach.
    func load(_ id: String, config: String = "{}", secrets: [String: String] = [:],
              egress: String = "127.0.0.1") throws -> PluginInstance {
        let grants = try secrets.sorted { $0.key < $1.key }.map { name, value in
            "\(name): \"${file:\(try directory.write("secret-\(name)", value))}\""
        }
        let manager = PluginManager(configuration: try configuration("""
            plugins:
              \(id):
                egress: [\(egress)]
                config: \(config)
                secrets: { \(grants.joined(separator: ", ")) }
            """), logger: testLogger)
        manager.loadAll()
        return try #require(manager.instance(id), "\(String(describing: manager.status(id)))")
    }
}
