import ArgumentParser
import Foundation
import Logging
import TrellisCore
import TrellisPluginHost

extension Plugins {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the conformance suite on a plugin library, and say what to fix.",
            discussion: """
                Loads the library and checks: its descriptor; that its manifest (--manifest, or the registry's for \
                its id) agrees with it (id, kind, version, ABI, interfaces) and the config matches its schema; that \
                instances are created and destroyed in pairs; its kind's call (send, complete, decide, tokenize) \
                answers in the right shape or fails with a classified error; many threads calling at once; that \
                a cancelled call past its deadline returns within 2 s; and, where Debian's LeakSanitizer runtime \
                (liblsan0) is installed, that none of this leaks memory the plugin's own code allocated (the checks \
                run again in a child process under it). Exits 1 when a check fails.
                """)

        @OptionGroup var deployment: DeploymentOptions
        @Argument(help: ArgumentHelp("The plugin library (.so).", valueName: "library")) var library: String
        @Option(help: ArgumentHelp("Its manifest. Default: the registry's for the library's id.", valueName: "file")) var manifest: String?
        @Option(name: .customLong("with-config"), help: ArgumentHelp("The plugin's config, as JSON.", valueName: "json"))
        var config = "{}"
        @Option(name: .customLong("secret"), help: ArgumentHelp("A secret the plugin may look up (repeatable).", valueName: "name=value"))
        var secrets: [String] = []
        @Option(help: ArgumentHelp("What the kind's call is made with, as JSON (an analyzer: a JSON string).", valueName: "json"))
        var input: String?
        @Flag(help: "Print the findings as JSON.") var json = false
        @Flag(help: "Skip the leak check under LeakSanitizer.") var noLeakCheck = false
        /// Set in the child process that runs the checks under LeakSanitizer.
        @Flag(help: .hidden) var leakChild = false

        func run() throws {
            func parse(_ text: String, _ what: String) throws -> JSONValue {
                do {
                    return try JSONValue(json: Array(text.utf8))
                } catch {
                    throw ValidationError("\(what) is not JSON: \(error.message) at byte \(error.offset)")
                }
            }
            var granted: [String: String] = [:]
            for pair in secrets {
                guard let equals = pair.firstIndex(of: "=") else { throw ValidationError("--secret \(pair): write it as name=value") }
                granted[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
                Redactor.shared.register(String(pair[pair.index(after: equals)...]))
            }
            var found: PluginManifest?
            if let manifest {
                do {
                    found = try PluginManifest.load(path: manifest)
                } catch {
                    throw ValidationError(error.description)
                }
            } else if let info = try? PluginLibrary.open(path: library).info,
                      let configuration = try? deployment.load() {
                found = PluginRegistry(directories: configuration.registryPaths).manifest(for: info.id)
            }
            var logger = Logger(label: "trellis.check")
            logger.logLevel = .error
            var check = ConformanceCheck(library: library, manifest: found, configuration: try parse(config, "--with-config"),
                                         secrets: granted, input: try input.map { try parse($0, "--input") })
            check.cancellationBound = 2
            var findings = check.run(logger: logger)
            if !leakChild && !noLeakCheck { findings.append(leakFinding()) }
            if json {
                try printJSON(findings)
            } else {
                for finding in findings {
                    let mark = switch finding.outcome { case .passed: "✔"; case .failed: "✘"; case .skipped: "–" }
                    print("\(mark) \(finding.check): \(Redactor.shared.redact(finding.detail))")
                }
                let failed = findings.filter { $0.outcome == .failed }.count
                print(failed == 0 ? "conformant: every check passed" : "\(failed) check\(failed == 1 ? "" : "s") failed")
            }
            if findings.contains(where: { $0.outcome == .failed }) { throw ExitCode(1) }
        }
    
        /// Runs the same checks in a child process with LeakSanitizer
        /// preloaded, and reports the leaks whose allocation the plugin's
        /// own code made.
        func leakFinding() -> ConformanceCheck.Finding {
            guard let runtime = LeakReport.runtime else {
                return .init(check: "leaks", outcome: .skipped,
                             detail: "LeakSanitizer is not installed (Debian's liblsan0), so leaks were not checked")
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: DeploymentOptions.binaryPath)
            process.arguments = Array(CommandLine.arguments.dropFirst()) + ["--leak-child"]
            var environment = ProcessInfo.processInfo.environment
            environment["LD_PRELOAD"] = [runtime, environment["LD_PRELOAD"]].compactMap { $0 }.joined(separator: " ")
            environment["LSAN_OPTIONS"] = LeakReport.options
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            let errors = Pipe()
            process.standardError = errors
            do {
                try process.run()
            } catch {
                return .init(check: "leaks", outcome: .skipped, detail: "the leak check could not start: \(error.localizedDescription)")
            }
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            let status = process.terminationStatus
            guard process.terminationReason == .exit, [0, 1, LeakReport.leakExitCode].contains(status) else {
                return .init(check: "leaks", outcome: .failed,
                             detail: "the checks under LeakSanitizer ended with \(process.terminationReason == .exit ? "status" : "signal") \(status): "
                                + String(text.suffix(600)))
            }
            let leaks = LeakReport.parse(text, library: library).leaks
            guard !leaks.isEmpty else {
                return .init(check: "leaks", outcome: .passed,
                             detail: "LeakSanitizer found no leak from the plugin's code over every call above")
            }
            let bytes = leaks.reduce(0) { $0 + $1.bytes }, objects = leaks.reduce(0) { $0 + $1.objects }
            let places = leaks.sorted { $0.bytes > $1.bytes }.prefix(3).map { "\($0.bytes) bytes in \($0.objects) by \($0.frame)" }
            return .init(check: "leaks", outcome: .failed,
                         detail: "\(bytes) bytes in \(objects) allocations leaked (\(places.joined(separator: "; "))"
                            + (leaks.count > 3 ? "; and \(leaks.count - 3) more places" : "")
                            + "); free what the plugin allocates once the call is answered, and in destroy what create made")
        }
    }
}
