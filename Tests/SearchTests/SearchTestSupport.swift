import Foundation
import Logging
import TrellisCore
import TrellisPluginHost
@testable import TrellisSearch

let testLogger = Logger(label: "trellis.search.test")

/// A scratch folder removed when the test ends.
final class Scratch {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-search-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

enum Build {
    static let directory: String = {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().path
    }()
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
}

/// The bundled analyzers, loaded from this build's libraries with a stamped
/// registry, and a search engine over a scratch folder.
final class SearchFixture {
    let scratch: Scratch
    let plugins: PluginManager
    let engine: SearchEngine

    init(plugins yaml: String = """
        plugins:
          analyzer.standard:
          analyzer.english:
          analyzer.ngram: { config: { edge: true, min_gram: 1, max_gram: 10 } }
          analyzer.whitespace:
        """, extraManifests: [(id: String, library: String)] = []) throws {
        scratch = try Scratch()
        let registry = "\(scratch.path)/registry"
        try PluginRegistry.stamp(source: "\(Build.packageRoot)/registry", libraries: Build.directory, output: registry)
        for (id, library) in extraManifests {
            let sha = try sha256(ofFile: "\(Build.directory)/\(library)")
            try FileManager.default.createDirectory(atPath: "\(registry)/\(id)", withIntermediateDirectories: true)
            try """
                {"id": "\(id)", "kind": "analyzer", "version": "1.0.0", "description": "a test analyzer",
                 "abi": {"major": 1, "minor": 4}, "interfaces": ["trellis.analyzer/1", "trellis.health/1"],
                 "library": {"file": "\(library)", "sha256": "\(sha)"}, "config_schema": {"type": "object"}, "permissions": {}}
                """.write(toFile: "\(registry)/\(id)/1.0.0.json", atomically: true, encoding: .utf8)
        }
        let file = "\(scratch.path)/trellis.yaml"
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        var configuration = try DeploymentConfiguration.parse(text: yaml, file: file, defaultPluginPaths: [Build.directory])
        configuration.registryPaths = [registry]
        plugins = PluginManager(configuration: configuration, logger: testLogger)
        for status in plugins.loadAll() where status.state == .error && status.required {
            throw FixtureError(message: "\(status.id): \(status.reason ?? "")")
        }
        engine = SearchEngine(root: "\(scratch.path)/search", plugins: plugins)
    }

    struct FixtureError: Error { var message: String }

    func schema(_ json: String) throws -> SearchSchema {
        try SearchSchema.parse(try JSONValue(json: Array(json.utf8)))
    }

    static func documents(_ json: String) throws -> [JSONValue] {
        guard case .array(let items) = try JSONValue(json: Array(json.utf8)) else { return [] }
        return items
    }
}
