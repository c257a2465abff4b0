import ArgumentParser
import Foundation
import Logging
import TrellisBenchmarks

extension Bench {
    struct AI: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ai",
            abstract: "The model router's overhead per request, whole and streamed, a cache hit, and requests/s with many in flight.",
            discussion: """
                Against a model API on 127.0.0.1 that answers at once in OpenAI's wire format, through the bundled \
                provider.openai: the same request sent raw through the host's HTTP client (the limit), through the \
                plugin, and routed through a group of one deployment. The router's overhead is routed minus plugin. \
                Needs the stamped registry next to the binary (`trellis registry stamp`).
                """)

        @Option(help: "Requests per measured round.") var requests = 1000
        @Option(help: "Measured rounds per figure (the median is reported).") var rounds = 3
        @Option(help: "Requests in flight at once for the throughput figure.") var inFlight = 64
        @Option(help: ArgumentHelp("Where the plugin libraries and registry/ are. Default: next to this binary.", valueName: "dir"))
        var libraries: String?
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard requests > 0, rounds > 0, inFlight > 0 else { throw ValidationError("--requests, --rounds and --in-flight must be above 0") }
        }

        func run() throws {
            warnIfDebugBuild()
            let directory = libraries ?? DeploymentOptions.binaryDirectory
            let registry = "\(directory)/registry"
            guard FileManager.default.fileExists(atPath: "\(registry)/provider.openai") else {
                throw ValidationError("no stamped registry at \(registry); run `trellis registry stamp` first")
            }
            let scratch = try ScratchDirectory()
            var logger = Logger(label: "trellis.bench")
            logger.logLevel = .warning
            let result = try AIBenchmark(requests: requests, inFlight: inFlight, rounds: rounds)
                .run(registry: registry, libraries: directory, directory: scratch.path, logger: logger)
            if json {
                try printJSON(result)
                return
            }
            print("ai: one deployment of provider.openai on a loopback API that answers at once, median of rounds × \(requests) requests:")
            printColumns(header: ["", "RAW HTTP µs", "PLUGIN µs", "ROUTED µs", "ROUTER OVERHEAD µs", "ROUTED / RAW"], rows: [
                ["whole", f(result.rawMicroseconds), f(result.pluginMicroseconds), f(result.routerMicroseconds),
                 f(result.routerOverheadMicroseconds), String(format: "%.2f×", result.routerMicroseconds / result.rawMicroseconds)],
                ["streamed", f(result.streamRawMicroseconds), f(result.streamPluginMicroseconds), f(result.streamRouterMicroseconds),
                 f(result.streamRouterOverheadMicroseconds),
                 String(format: "%.2f×", result.streamRouterMicroseconds / result.streamRawMicroseconds)],
            ])
            print(String(format: "cache hit: %.2f µs, %.1f× a bare SHA-256 and dictionary lookup of the request (%.2f µs)",
                         result.cacheHitMicroseconds, result.cacheHitMicroseconds / result.bareLookupMicroseconds,
                         result.bareLookupMicroseconds))
            print(String(format: "%d in flight: %.0f routed requests/s, %.0f raw HTTP requests/s (%.2f of raw)", result.inFlight,
                         result.routerRequestsPerSecond, result.rawRequestsPerSecond,
                         result.routerRequestsPerSecond / result.rawRequestsPerSecond))
            let worst = max(result.routerOverheadMicroseconds, result.streamRouterOverheadMicroseconds)
            print(String(format: "target: router overhead ≤ 50 µs — %@ (worst %.1f µs); cache hit ≤ 5 µs — %@",
                         worst <= 50 ? "met" : "NOT met", worst, result.cacheHitMicroseconds <= 5 ? "met" : "NOT met"))
        }

        func f(_ value: Double) -> String { String(format: "%.1f", value) }
    }
}
