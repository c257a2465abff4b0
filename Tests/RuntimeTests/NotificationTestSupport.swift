import Foundation
import Logging
import Synchronization
import TrellisCore
import TrellisPluginHost
import TrellisStore
@testable import TrellisRuntime
import TrellisTestSupport

/// A deployment with real channel plugins (channel.webhook, channel.slack,
/// channel.push) pointed at a loopback server, recovery.retry and
/// recovery.circuit-breaker, a real SQLite store, and a notification
/// service on a test clock.
final class NotificationHarness: @unchecked Sendable {
    static let signingSecret = "whsec_" + Data("notification tests signing key!!".utf8).base64EncodedString()
    static let slackHookPath = "/services/T0/B0/slack-hook-secret"

    let directory: String
    let store: SQLiteStore
    let plugins: PluginManager
    let settings: NotificationSettings
    let clock = TestClock()
    let server: LoopbackHTTPServer
    let received = Recorder<LoopbackHTTPServer.Request>()
    let logger = Logger(label: "trellis.tests.notify")
    var service: NotificationService!
    let deliveries = Recorder<DeliveryRecord>()

    /// `notifications` is the YAML of the `notifications:` section, with
    /// `URL` standing for the loopback server's address; `respond` answers
    /// each request (default 200 with an ntfy-like id).
    init(notifications: String, workers: Int = 4,
         respond: @escaping @Sendable (LoopbackHTTPServer.Request) -> LoopbackHTTPServer.Response = { _ in
             .init(status: 200, text: #"{"id":"m-1"}"#)
         }) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-notify-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let received = self.received
        server = try LoopbackHTTPServer { request in
            received.append(request)
            return respond(request)
        }
        let registry = "\(directory)/registry"
        try PluginRegistry.stamp(source: Checkout.registry, libraries: Build.directory, output: registry)
        try Self.signingSecret.write(toFile: "\(directory)/signing", atomically: true, encoding: .utf8)
        try "\(server.url)\(Self.slackHookPath)".write(toFile: "\(directory)/slack", atomically: true, encoding: .utf8)
        let yaml = """
            registry: [\(registry)]
            store: trellis.db
            plugins:
              channel.webhook:
                egress: [127.0.0.1]
                secrets: { signing_secret: "${file:\(directory)/signing}" }
              channel.slack:
                egress: [127.0.0.1]
                secrets: { webhook_url: "${file:\(directory)/slack}" }
              channel.push:
                egress: [127.0.0.1]
                config: { server: "\(server.url)" }
              recovery.retry:
              recovery.circuit-breaker:
            notifications:
              workers: \(workers)
            \(notifications.replacingOccurrences(of: "URL", with: server.url).split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n"))
            """
        let deployment = try DeploymentConfiguration.parse(text: yaml, file: "\(directory)/trellis.yaml",
                                                           defaultPluginPaths: [Build.directory])
        settings = try NotificationSettings.parse(deployment)
        plugins = PluginManager(configuration: deployment, logger: logger)
        plugins.loadAll()
        for id in ["channel.webhook", "channel.slack", "channel.push", "recovery.retry"] where plugins.instance(id) == nil {
            throw HarnessError(message: "\(id) did not load: \(plugins.status(id)?.reason ?? "unknown")")
        }
        store = try SQLiteStore(path: deployment.storePath)
        start()
    }

    func start(mode: NotificationService.Mode = .owner) {
        let clock = self.clock
        service = NotificationService(settings: settings, store: store, plugins: plugins, mode: mode, logger: logger,
                                      now: { clock.now })
        let deliveries = self.deliveries
        service.observe { delivery in deliveries.append(delivery) }
    }

    deinit {
        service.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    var requests: [LoopbackHTTPServer.Request] { received.all }

    /// Moves the test clock and lets the dispatcher look again.
    func advance(_ seconds: Double) {
        clock.advance(seconds)
        service.poke()
    }

    func states(_ id: String) throws -> [DeliveryRecord.State] {
        try store.deliveries(notification: id).map(\.state)
    }

    /// The states one delivery went through, as the observer saw them.
    func history(_ deliveryID: String) -> [DeliveryRecord.State] {
        deliveries.all.filter { $0.id == deliveryID }.map(\.state)
    }
}

/// Values appended from any thread.
final class Recorder<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])
    func append(_ value: Value) { values.withLock { $0.append(value) } }
    var all: [Value] { values.withLock { $0 } }
}
