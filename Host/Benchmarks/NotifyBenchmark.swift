import Foundation
import Logging
import Synchronization
import TrellisCore
import TrellisPluginHost
import TrellisRuntime
import TrellisStore
import TrellisTestSupport

/// Signed webhook deliveries per second through the whole notification
/// service: templates rendered, deliveries recorded in a durable SQLite
/// store (queued, sending, delivered), channel.webhook signing each message
/// and POSTing it over the host's HTTP client to a loopback receiver.
public struct NotifyBenchmark: Sendable {
    public struct Result: Sendable, Encodable {
        public var messages: Int
        public var seconds: Double
        public var deliveriesPerSecond: Double
        /// From queuing a message to its delivery being recorded.
        public var p50Milliseconds: Double
        public var p99Milliseconds: Double
        public var connections: Int
        public var workers: Int
        /// Messages queued per second, when paced (nil: all at once).
        public var rate: Double?
    }

    public var messages: Int
    public var workers: Int
    /// Requests queued per store transaction.
    public var batch: Int
    /// Messages queued per second; nil queues them all at once (a burst,
    /// where p50/p99 are mostly the wait behind it).
    public var rate: Double?

    public init(messages: Int, workers: Int, batch: Int, rate: Double? = nil) {
        self.messages = messages
        self.workers = workers
        self.batch = batch
        self.rate = rate
    }

    /// `registry` holds the stamped manifests and `libraries` the plugins;
    /// `directory` is scratch space for the store and the config.
    public func run(registry: String, libraries: String, directory: String, logger: Logger) throws -> Result {
        let server = try LoopbackHTTPServer { _ in .init(status: 204) }
        let secret = "whsec_" + Data("bench signing key, thirty-two by".utf8).base64EncodedString()
        try secret.write(toFile: "\(directory)/signing", atomically: true, encoding: .utf8)
        let yaml = """
            registry: [\(registry)]
            plugin_paths: [\(libraries)]
            store: trellis.db
            plugins:
              channel.webhook:
                egress: [127.0.0.1]
                secrets: { signing_secret: "${file:\(directory)/signing}" }
            notifications:
              workers: \(workers)
              templates:
                event: { subject: "{{kind}} on {{host}}", text: "{{kind}} on {{host}} at {{at}}: {{detail}}" }
              recipients:
                receiver: { channels: [{ channel: channel.webhook, address: "\(server.url)/hook" }] }
            """
        let deployment = try DeploymentConfiguration.parse(text: yaml, file: "\(directory)/trellis.yaml", defaultPluginPaths: [libraries])
        let plugins = PluginManager(configuration: deployment, logger: logger)
        if let failure = plugins.load(only: ["channel.webhook"]).first(where: { $0.state != .ok }) {
            throw NotificationError(problems: ["cannot load \(failure.id): \(failure.reason ?? "unknown")"])
        }
        let store = try SQLiteStore(path: deployment.storePath)
        let service = NotificationService(settings: try NotificationSettings.parse(deployment), store: store, plugins: plugins,
                                          logger: logger)
        defer { service.stop() }

        let queuedAt = Mutex<[String: Double]>([:])
        let latencies = Mutex<[Double]>([])
        let done = DispatchSemaphore(value: 0)
        let total = messages
        service.observe { delivery in
            guard delivery.state == .delivered || delivery.state == .failed else { return }
            let end = Date().timeIntervalSince1970
            let start = queuedAt.withLock { $0.removeValue(forKey: delivery.notificationID) } ?? end
            let count = latencies.withLock { $0.append(end - start); return $0.count }
            if count == total { done.signal() }
        }
        let started = Date()
        var sent = 0
        // Paced: a batch every 10 ms or so.
        let perBatch = rate.map { min(batch, max(1, Int($0 / 100))) } ?? batch
        while sent < messages {
            if let rate {
                let due = started.addingTimeInterval(Double(sent) / rate).timeIntervalSinceNow
                if due > 0 { Thread.sleep(forTimeInterval: due) }
            }
            let count = min(perBatch, messages - sent)
            let requests = (0..<count).map { index in
                NotificationRequest(recipients: ["receiver"], template: "event", variables: [
                    "kind": "disk.full", "host": .string("web-\((sent + index) % 32)"), "at": "2026-11-21T10:00:00Z",
                    "detail": "/var is 97% full",
                ])
            }
            let time = Date().timeIntervalSince1970
            let ids = try service.send(requests).map { $0[0] }
            queuedAt.withLock { for id in ids where $0[id] == nil { $0[id] = time } }
            sent += count
        }
        done.wait()
        let seconds = Date().timeIntervalSince(started)
        let sorted = latencies.withLock { $0 }.sorted()
        func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 1000 }
        return Result(messages: messages, seconds: seconds, deliveriesPerSecond: Double(messages) / seconds,
                      p50Milliseconds: percentile(0.5), p99Milliseconds: percentile(0.99),
                      connections: server.connectionsAccepted, workers: workers, rate: rate)
    }
}
