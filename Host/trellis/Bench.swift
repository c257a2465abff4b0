import ArgumentParser
import Foundation
import Logging
import TrellisBenchmarks
import TrellisCore
import TrellisPluginHost
import TrellisRuntime
import TrellisStore

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Trellis's own speed.",
        discussion: "Run from a release build (swift build -c release): debug figures are not representative.",
        subcommands: [PluginCall.self, DAG.self, Load.self, Store.self, RunProcess.self, Recovery.self, Notify.self, AI.self, Search.self])

    struct PluginCall: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "plugin-call",
            abstract: "Nanoseconds per no-op call into a C and a Swift plugin, raw and through the host's wrapper.",
            discussion: """
                Loads the bundled C analyzer (analyzer.whitespace) and Swift channel (channel.stdout) from \
                --libraries and calls their trellis.health/1 probe, which does nothing, many times. \
                Prints the median of several rounds.
                """)

        @Option(help: ArgumentHelp("Where the built plugin libraries are. Default: next to this binary.", valueName: "dir"))
        var libraries: String?

        @Option(help: "Calls per round.")
        var iterations = 2_000_000

        @Option(help: "Measured rounds (the median is reported).")
        var rounds = 5

        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            warnIfDebugBuild()
            let directory = libraries ?? DeploymentOptions.binaryDirectory
            let logger = Logger(label: "trellis.bench")
            let benchmark = PluginCallBenchmark(iterations: iterations, rounds: rounds)
            var results: [PluginCallBenchmark.Result] = []
            for (file, language) in [("libTrellisAnalyzerWhitespace.so", "C"), ("libTrellisChannelStdout.so", "Swift")] {
                let path = URL(fileURLWithPath: directory).appendingPathComponent(file).path
                let library = try PluginLibrary.open(path: path)
                let instance = try PluginInstance(library: library, logger: logger)
                results += try benchmark.run(instance, language: language)
            }
            if json {
                try printJSON(results)
                return
            }
            print("No-op plugin call (trellis.health/1 check), median of \(rounds) rounds × \(iterations) calls:")
            printColumns(header: ["PLUGIN", "LANGUAGE", "PATH", "NS/CALL"], rows: results.map {
                [$0.plugin, $0.language, $0.path, String(format: "%.1f", $0.nanosecondsPerCall)]
            })
            let worstWrapper = results.filter { $0.path == "Swift wrapper" }.map(\.nanosecondsPerCall).max() ?? 0
            print(String(format: "target: ≤ 100 ns per call through the wrapper — %@ (worst %.1f ns)",
                         worstWrapper <= 100 ? "met" : "NOT met", worstWrapper))
        }
    }
}

extension Bench {
    struct Load: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time loading and validating a generated workflow, beside parsing its YAML alone.",
            discussion: """
                fan: one step, then all others needing it; chain: each step needing the one before and \
                reading its output in an expression. Loading parses the YAML (with Yams), checks the \
                workflow's schema, builds the DAG, looks for cycles and checks every expression's references. \
                Prints the best of --repeats rounds, and its ratio to Yams parsing the same text.
                """)

        @Option(help: "fan or chain.") var shape: LoadBenchmark.Shape = .fan
        @Option(help: "Steps in the workflow.") var steps = 10_000
        @Option(help: "Rounds to measure (the best is reported).") var repeats = 3
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            warnIfDebugBuild()
            guard steps >= 2 else { throw ValidationError("--steps must be at least 2") }
            let result = try LoadBenchmark(shape: shape, steps: steps, rounds: max(1, repeats)).run()
            if json {
                try printJSON(result)
                return
            }
            print(String(format: "load %@, %d steps (%.1f MB of YAML), best of %d:", shape.rawValue, result.steps,
                         Double(result.bytes) / 1_048_576, repeats))
            print(String(format: "  load and validate: %.3f s, %.1f µs/step", result.loadSeconds, result.microsecondsPerStep))
            print(String(format: "  Yams parse alone:  %.3f s; the load costs %.1f× the parse", result.yamlSeconds, result.ratioToYAML))
            print(String(format: "  target: ≤ 15 µs/step — %@", result.microsecondsPerStep <= 15 ? "met" : "NOT met"))
        }
    }

    struct DAG: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dag",
            abstract: "Run a generated workflow of no-op plugin steps (channel.null) on a durable store.",
            discussion: """
                fan: one step, then all others depending on it; chain: each step depends on the one before. \
                The runs go one after another through one engine and one new store, as a host runs its \
                workflows; the fastest is reported, with the peak RSS during that run.
                """)

        @Option(help: "fan or chain.") var shape: DAGBenchmark.Shape = .fan
        @Option(help: "Steps in the workflow.") var steps = 1000
        @Option(help: "Steps running at once (worker threads).") var concurrency = 64
        @Option(help: "Runs to measure (the best is reported).") var repeats = 3
        @Option(help: ArgumentHelp("Where the plugin libraries are. Default: next to this binary.", valueName: "dir"))
        var libraries: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            warnIfDebugBuild()
            let logger = Logger(label: "trellis.bench")
            let directory = libraries ?? DeploymentOptions.binaryDirectory
            let plugins = PluginManager(configuration: DeploymentConfiguration(pluginPaths: [], registryPaths: []), logger: logger)
            let status = plugins.load(only: [], extraLibraries: ["\(directory)/libTrellisChannelNull.so"])
            if let failure = status.first(where: { $0.state != .ok }) {
                throw ValidationError("cannot load channel.null: \(failure.reason ?? "")")
            }
            let scratch = try ScratchDirectory()
            let benchmark = DAGBenchmark(shape: shape, steps: steps, maxConcurrentSteps: concurrency)
            let results = try await benchmark.run(rounds: repeats, plugins: plugins, directory: scratch.path, logger: logger)
            let best = results.min { $0.seconds < $1.seconds }!
            if json {
                try printJSON(best)
                return
            }
            let target = shape == .fan ? 10.0 : 20.0
            print(String(format: "dag %@, %d no-op plugin steps on a durable SQLite store (best of %d runs in one host):", shape.rawValue, steps, repeats))
            print(String(format: "  %.0f steps/s, %.1f µs/step, %d commits, peak RSS %.1f MB",
                         best.stepsPerSecond, best.microsecondsPerStep, best.commits, Double(best.peakRSSBytes) / 1_048_576))
            print(String(format: "  target: ≤ %.0f µs/step — %@; peak RSS ≤ 40 MB — %@", target,
                         best.microsecondsPerStep <= target ? "met" : "NOT met",
                         best.peakRSSBytes <= 40 * 1_048_576 ? "met" : "NOT met"))
        }
    }

    struct Store: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "store",
            abstract: "Event appends per second through the store, beside raw SQLite inserts with the same pragmas.")

        @Option(help: "Appends to measure.") var appends = 20_000
        @Option(help: "Appends per commit in the batched figures.") var batch = 100
        @Option(help: "Rounds of every measurement; each figure is the best of its rounds.") var repeats = 3
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            warnIfDebugBuild()
            let scratch = try ScratchDirectory()
            let figures = try StoreBenchmark(appends: appends, batchSize: batch, rounds: repeats).run(directory: scratch.path)
            if json {
                try printJSON(figures)
                return
            }
            print("Event appends, WAL, synchronous = NORMAL, \(appends) appends (best of \(repeats) rounds):")
            printColumns(header: ["WHAT", "PER SECOND"], rows: figures.map { [$0.name, String(format: "%.0f", $0.perSecond)] })
            let single = figures[0].perSecond / figures[1].perSecond, batched = figures[2].perSecond / figures[3].perSecond
            print(String(format: "store / raw event inserts: %.0f%% single (target ≥ 80%% — %@), %.0f%% batched (target ≥ 50%% — %@)",
                         single * 100, single >= 0.8 ? "met" : "NOT met", batched * 100, batched >= 0.5 ? "met" : "NOT met"))
            print(String(format: "store / raw writes of the store's rows: %.0f%% single, %.0f%% batched (what the store itself adds)",
                         figures[0].perSecond / figures[4].perSecond * 100, figures[2].perSecond / figures[5].perSecond * 100))
        }
    }

    struct RunProcess: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run-process",
            abstract: "Wall time of a whole `trellis run` process for a one-step workflow.")

        @OptionGroup var deployment: DeploymentOptions
        @Option(help: "Runs to time (the median is reported).") var repeats = 20

        func run() throws {
            let scratch = try ScratchDirectory()
            let workflow = "\(scratch.path)/one.yaml"
            try "name: one\nsteps:\n  - id: only\n    uses: channel.null\n".write(toFile: workflow, atomically: true, encoding: .utf8)
            var arguments = ["run", workflow, "--store", "\(scratch.path)/trellis.db"]
            if let config = deployment.configFile { arguments += ["--config", config] }
            var samples: [Double] = []
            for _ in 0..<repeats {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: DeploymentOptions.binaryPath)
                process.arguments = arguments
                process.standardOutput = FileHandle.nullDevice
                let errors = Pipe()
                process.standardError = errors
                let start = DispatchTime.now().uptimeNanoseconds
                try process.run()
                process.waitUntilExit()
                samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                guard process.terminationStatus == 0 else {
                    let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                    throw ValidationError("trellis run failed: \(message)")
                }
            }
            samples.sort()
            print(String(format: "trellis run of a one-step workflow (channel.null), %d runs: median %.1f ms, min %.1f ms, max %.1f ms",
                         repeats, samples[samples.count / 2], samples[0], samples[samples.count - 1]))
            print(String(format: "target: ≤ 50 ms — %@", samples[samples.count / 2] <= 50 ? "met" : "NOT met"))
        }
    }
}

extension DAGBenchmark.Shape: ExpressibleByArgument {}
extension LoadBenchmark.Shape: ExpressibleByArgument {}

extension Bench {
    struct Recovery: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "recovery",
            abstract: "The overhead a retry + circuit breaker + timeout pipeline adds to a successful call.",
            discussion: "Times the admission round before an attempt and the outcome round after it, as the runner makes them.")

        @Option(help: ArgumentHelp("Where the plugin libraries are. Default: next to this binary.", valueName: "dir"))
        var libraries: String?
        @Option(help: "Calls per round.") var iterations = 200_000
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            warnIfDebugBuild()
            let directory = libraries ?? DeploymentOptions.binaryDirectory
            let logger = Logger(label: "trellis.bench")
            let pipeline: [(String, JSONValue)] = [
                ("libTrellisRecoveryRetry.so", ["max_attempts": 3, "jitter": "full"]),
                ("libTrellisRecoveryCircuitBreaker.so", ["minimum_throughput": 10, "failure_ratio": 0.5]),
                ("libTrellisRecoveryTimeout.so", ["timeout_ms": 5000]),
            ]
            let instances = try pipeline.map { file, policy in
                (try PluginInstance(library: PluginLibrary.open(path: "\(directory)/\(file)"), logger: logger), policy)
            }
            let result = try RecoveryBenchmark(iterations: iterations).run(instances)
            if json {
                try printJSON(result)
                return
            }
            print(String(format: "recovery pipeline %@ on a successful call: %.0f ns (admission before + outcomes after)",
                         result.strategies.joined(separator: " + "), result.nanosecondsPerCall))
            print(String(format: "target: ≤ 2 µs — %@", result.nanosecondsPerCall <= 2000 ? "met" : "NOT met"))
        }
    }
}

/// A temporary directory for a benchmark's files, removed when it goes away.
final class ScratchDirectory {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-bench-\(UUID().uuidString)").path

    init() throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Benchmarks of a debug build mislead: say so before the figures.
func warnIfDebugBuild() {
    #if DEBUG
    warn("warning: this is a debug build; build with `swift build -c release` for real figures")
    #endif
}
