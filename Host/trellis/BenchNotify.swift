import ArgumentParser
import Foundation
import Logging
import TrellisBenchmarks
import TrellisRuntime

extension Bench {
    struct Notify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "notify",
            abstract: "Signed webhook deliveries per second through the notification service, and p50/p99 from queuing to delivered.",
            discussion: """
                Each message is rendered from a template, recorded in a fresh SQLite store (queued, sending, \
                delivered), signed by channel.webhook (Standard Webhooks) and POSTed through the host's HTTP \
                client to a receiver on 127.0.0.1. Needs the stamped registry next to the binary \
                (`trellis registry stamp`).
                """)

        @Option(help: "Messages to deliver.") var messages = 20_000
        @Option(help: "Deliveries in flight at once.") var workers = 8
        @Option(help: "Messages queued per store transaction.") var batch = 200
        @Option(help: ArgumentHelp("""
            Queue this many messages per second instead of all at once: p50/p99 then show how long a \
            message takes, not how long it waits behind a burst.
            """, valueName: "per-second"))
        var rate: Double?
        @Option(help: ArgumentHelp("Where the plugin libraries and registry/ are. Default: next to this binary.", valueName: "dir"))
        var libraries: String?
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            warnIfDebugBuild()
            let directory = libraries ?? DeploymentOptions.binaryDirectory
            let registry = "\(directory)/registry"
            guard FileManager.default.fileExists(atPath: "\(registry)/channel.webhook") else {
                throw ValidationError("no stamped registry at \(registry); run `trellis registry stamp` first")
            }
            let scratch = try ScratchDirectory()
            var logger = Logger(label: "trellis.bench")
            logger.logLevel = .warning
            if let rate, rate <= 0 { throw ValidationError("--rate must be above 0") }
            let result = try NotifyBenchmark(messages: messages, workers: workers, batch: batch, rate: rate)
                .run(registry: registry, libraries: directory, directory: scratch.path, logger: logger)
            if json {
                try printJSON(result)
                return
            }
            print(String(format: "notify: %d signed webhook deliveries to a loopback receiver, %d workers, %d connections%@:",
                         result.messages, result.workers, result.connections,
                         rate.map { String(format: ", queued at %.0f/s", $0) } ?? ", queued at once"))
            print(String(format: "  %.0f deliveries/s (%.2f s); queued → delivered p50 %.1f ms, p99 %.1f ms",
                         result.deliveriesPerSecond, result.seconds, result.p50Milliseconds, result.p99Milliseconds))
            if rate == nil {
                print(String(format: "  target: ≥ 10,000 deliveries/s — %@", result.deliveriesPerSecond >= 10_000 ? "met" : "NOT met"))
            }
        }
    }
}
