import ArgumentParser
import Foundation
import Logging
import TrellisPluginHost

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Trellis's own speed.",
        discussion: "Run from a release build (swift build -c release): debug figures are not representative.",
        subcommands: [PluginCall.self])

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
            #if DEBUG
            warn("warning: this is a debug build; build with `swift build -c release` for real figures")
            #endif
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
