import Foundation
import Synchronization
import Testing
import TrellisPluginHost

/// Runs the real `trellis` binary built by this package.
enum CLI {
    static let buildDirectory: String = {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().path
    }()

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `trellis` with `arguments` in `directory` and waits for it.
    static func trellis(_ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> Output {
        try run("\(buildDirectory)/trellis", arguments, in: directory, environment: environment)
    }

    /// `run`, waiting on a thread of its own rather than on one of Swift's
    /// cooperative threads: a long build must not starve the async tests
    /// running beside it (with 2 cores, the pool has 2 threads).
    static func runOffPool(_ executable: String, _ arguments: [String], in directory: String,
                           environment: [String: String] = [:]) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try run(executable, arguments, in: directory, environment: environment) })
            }.start()
        }
    }

    static func run(_ executable: String, _ arguments: [String], in directory: String,
                    environment: [String: String] = [:]) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "TRELLIS_CONFIG")
        env.merge(environment) { _, new in new }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes while the process runs so neither can fill up.
        let stderrBox = Mutex(Data())
        let done = DispatchSemaphore(value: 0)
        Thread {
            let data = err.fileHandleForReading.readDataToEndOfFile()
            stderrBox.withLock { $0 = data }
            done.signal()
        }.start()
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        done.wait()
        let stderrData = stderrBox.withLock { $0 }
        return Output(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                      stderr: String(decoding: stderrData, as: UTF8.self))
    }
}

/// A scratch directory with a stamped copy of the bundled registry.
final class Workspace {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let stamp = try CLI.trellis(["registry", "stamp", "--source", "\(CLI.packageRoot)/registry",
                                     "--output", "\(path)/registry"], in: path)
        guard stamp.status == 0 else { throw WorkspaceError(message: stamp.stderr) }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = "\(path)/\(name)"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    /// Adds a manifest for a fixture library (an analyzer with an empty
    /// config schema) to this registry, with the library's sha256 written
    /// in by hand: `registry stamp` refuses a broken library, and these are.
    func addFixtureManifest(id: String, library: String) throws {
        try FileManager.default.createDirectory(atPath: "\(path)/registry/\(id)", withIntermediateDirectories: true)
        let sha = try sha256(ofFile: "\(CLI.buildDirectory)/\(library)")
        try write("registry/\(id)/0.0.1.json", """
            {"id": "\(id)", "kind": "analyzer", "version": "0.0.1", "description": "fixture",
             "abi": {"major": 1, "minor": 0}, "interfaces": ["trellis.analyzer/1"],
             "library": {"file": "\(library)", "sha256": "\(sha)"}, "config_schema": {"type": "object"}, "permissions": {}}
            """)
    }

    /// Writes `trellis.yaml` with this registry and the given plugins block.
    func config(_ plugins: String, extra: String = "") throws {
        try write("trellis.yaml", "registry: [registry]\n\(extra)plugins:\n\(plugins)\n")
    }

    func trellis(_ arguments: String..., environment: [String: String] = [:]) throws -> CLI.Output {
        try CLI.trellis(arguments, in: path, environment: environment)
    }
}

struct WorkspaceError: Error {
    var message: String
}

func json(_ text: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(text.utf8))
}
