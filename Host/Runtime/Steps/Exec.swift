import Foundation
import TrellisCore
import TrellisPluginHost

/// The `exec` built-in: runs a command (no shell) and captures its output.
/// Allowed only when the deployment config sets `exec: true`.
enum Exec {
    static func run(_ inputs: JSONValue, context: PluginCallContext) -> StepOutcome {
        let command: [String]
        if let array = inputs["command"]?.arrayValue {
            command = array.map(\.interpolated)
        } else if let single = inputs["command"]?.stringValue {
            command = [single]
        } else {
            command = []
        }
        guard let program = command.first else {
            return .failure(.config, message: "an exec step needs `with: { command: [program, arg, ...] }`", retryAfterMilliseconds: 0)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program.hasPrefix("/") ? program : "/usr/bin/env")
        process.arguments = program.hasPrefix("/") ? Array(command.dropFirst()) : command
        var environment = ProcessInfo.processInfo.environment
        environment["TRELLIS_IDEMPOTENCY_KEY"] = context.idempotencyKey
        environment["TRELLIS_RUN_ID"] = context.runID
        environment["TRELLIS_STEP_ID"] = context.stepID
        for (key, value) in inputs["env"]?.objectValue ?? [:] { environment[key] = value.interpolated }
        process.environment = environment
        if let directory = inputs["cwd"]?.stringValue { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return .failure(.config, message: "cannot start \(program): \(error.localizedDescription)", retryAfterMilliseconds: 0)
        }
        let collected = Collected()
        let readers = DispatchGroup()
        for (pipe, isError) in [(output, false), (errors, true)] {
            readers.enter()
            Thread {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                collected.set(data, isError: isError)
                readers.leave()
            }.start()
        }
        while process.isRunning {
            if context.cancellation?.isCancelled == true {
                process.terminate()
                break
            }
            Thread.sleep(forTimeInterval: 0.005)
        }
        process.waitUntilExit()
        readers.wait()
        let (stdout, stderr) = collected.value
        if context.cancellation?.isCancelled == true {
            return .failure(.cancelled, message: "\(program) was stopped: the step was cancelled", retryAfterMilliseconds: 0)
        }
        guard process.terminationStatus == 0 else {
            let tail = stderr.split(separator: "\n").suffix(3).joined(separator: " | ")
            return .failure(.permanent, message: "\(program) exited with status \(process.terminationStatus)"
                            + (tail.isEmpty ? "" : ": \(tail)"), retryAfterMilliseconds: 0)
        }
        return .success(["exit_code": 0, "stdout": .string(stdout), "stderr": .string(stderr)])
    }

    private final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var out = Data(), err = Data()
        func set(_ data: Data, isError: Bool) {
            lock.withLock { if isError { err = data } else { out = data } }
        }
        var value: (String, String) {
            lock.withLock { (String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self)) }
        }
    }
}
