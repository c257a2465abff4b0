import Foundation
import Testing

/// The directions between modules that DESIGN.md forbids, read from the
/// package's own description (`swift package dump-package`).
@Suite struct ModuleDirectionTests {
    struct Target {
        var name: String
        var path: String
        var dependencies: [String]
    }

    static func targets(of package: String = CLI.packageRoot) throws -> [String: Target] {
        // A scratch path of its own: `swift test` holds the lock on .build.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-dump-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let output = try CLI.run("/usr/bin/env", ["swift", "package", "--scratch-path", scratch, "dump-package"], in: package)
        guard output.status == 0 else { throw WorkspaceError(message: output.stderr) }
        let root = try #require(try json(output.stdout) as? [String: Any])
        var targets: [String: Target] = [:]
        for entry in root["targets"] as? [[String: Any]] ?? [] {
            let name = entry["name"] as? String ?? ""
            let dependencies = (entry["dependencies"] as? [[String: Any]] ?? []).compactMap { dependency in
                dependency.values.first.flatMap { ($0 as? [Any])?.first as? String }
            }
            targets[name] = Target(name: name, path: entry["path"] as? String ?? "", dependencies: dependencies)
        }
        return targets
    }

    /// Every target `name` depends on, directly or not.
    static func closure(_ name: String, in targets: [String: Target]) -> Set<String> {
        var seen = Set<String>(), queue = [name]
        while let next = queue.popLast() {
            for dependency in targets[next]?.dependencies ?? [] where seen.insert(dependency).inserted { queue.append(dependency) }
        }
        return seen
    }

    @Test func forbiddenDirectionsNeverAppear() throws {
        let targets = try Self.targets()
        let product = ["TrellisCore", "TrellisPluginHost", "TrellisStore", "TrellisRuntime"]
        for name in product { #expect(targets[name] != nil, "\(name) exists") }
        let testAndBench: Set = ["TrellisTestSupport", "TrellisBenchmarks"]
        for name in product {
            let reached = Self.closure(name, in: targets)
            #expect(reached.isDisjoint(with: testAndBench), "\(name) reaches \(reached.intersection(testAndBench))")
            #expect(!reached.contains("trellis"), "\(name) depends on the CLI")
        }
        let core = Self.closure("TrellisCore", in: targets)
        #expect(core.isDisjoint(with: ["TrellisStore", "TrellisPluginHost", "TrellisRuntime"]), "Core does no I/O: \(core)")
        #expect(!Self.closure("TrellisStore", in: targets).contains("TrellisPluginHost"), "the store knows nothing of plugins")
        let runtime = Self.closure("TrellisRuntime", in: targets)
        #expect(runtime.isDisjoint(with: ["Hummingbird", "HummingbirdCore"]), "the runtime does not serve HTTP")

        // Every plugin reaches nothing of the host.
        let host = Set(targets.values.filter { $0.path.hasPrefix("Host/") }.map(\.name))
        let pluginSide = targets.values.filter { $0.path.hasPrefix("Plugins/") }
        #expect(pluginSide.count > 10)
        for target in pluginSide {
            let reached = Self.closure(target.name, in: targets)
            #expect(reached.isDisjoint(with: host), "\(target.name) reaches host modules \(reached.intersection(host))")
        }
    }

    /// The SDK is a package of its own with no dependencies at all.
    @Test func theSDKPackageDependsOnNothing() throws {
        let targets = try Self.targets(of: "\(CLI.packageRoot)/SDK")
        #expect(Set(targets.keys).isSuperset(of: ["CTrellisABI", "TrellisSDK"]))
        let outside = Set(targets.values.flatMap(\.dependencies)).subtracting(targets.keys)
        #expect(outside.isEmpty, "the SDK depends on \(outside)")
        let manifest = try String(contentsOfFile: "\(CLI.packageRoot)/SDK/Package.swift", encoding: .utf8)
        #expect(!manifest.contains(".package("), "no package dependencies")
        #expect(!manifest.contains("unsafeFlags"), "no unsafe flags: it can be depended on by version")
    }
}
