import Foundation
import Synchronization
import Testing
import TrellisCore
import TrellisPluginHost
import TrellisStore
@testable import TrellisRuntime

/// How deliveries move: rate limits, priorities, digests, retries through
/// the recovery pipeline, failover, restarts, and what never reaches the store.
@Suite struct NotificationDeliveryTests {
    static let template = """
        templates:
          event:
            subject: "{{what}}"
            text: "{{what}} happened"
            digest:
              subject: "{{count}} events"
              text: "{{#items}}- {{what}}\\n{{/items}}"
          plain:
            text: "{{what}}"
        """

    @Test func aRateLimitDelaysMessagesAndDropsNone() async throws {
        let harness = try NotificationHarness(notifications: Self.template + """

            recipients:
              ops: { channels: [{ channel: channel.push, address: alerts }] }
            rate_limits:
              channel.push: { per_second: 2, burst: 1 }
            """)
        let ids = try harness.service.send((1...3).map {
            NotificationRequest(recipients: ["ops"], template: "event", variables: ["what": .string("e\($0)")])
        }).map { $0[0] }
        try await eventually { try harness.states(ids[0]) == [.sent] }
        harness.service.waitUntilQuiet()
        #expect(harness.requests.count == 1, "the bucket held one token")
        let waiting = try ids.dropFirst().map { try #require(try harness.store.deliveries(notification: $0).first) }
        #expect(waiting.map(\.state) == [.queued, .queued])
        harness.advance(0.5)
        try await eventually { try harness.states(ids[1]) == [.sent] }
        #expect(try harness.states(ids[2]) == [.queued])
        harness.advance(0.5)
        try await eventually { try harness.states(ids[2]) == [.sent] }
        #expect(harness.requests.map(\.text) == ["e1 happened", "e2 happened", "e3 happened"])
    }

    @Test func higherPrioritiesGoFirst() async throws {
        let harness = try NotificationHarness(notifications: Self.template + """

            recipients:
              ops: { channels: [{ channel: channel.push, address: alerts }] }
            """, workers: 1)
        let order: [NotificationPriority] = [.low, .normal, .critical, .high]
        _ = try harness.service.send(order.map {
            NotificationRequest(recipients: ["ops"], template: "plain", variables: ["what": .string($0.rawValue)], priority: $0)
        })
        try await eventually { harness.requests.count == 4 }
        #expect(harness.requests.map(\.text) == ["critical", "high", "normal", "low"])
    }

    @Test func messagesWithADigestKeyBecomeOneWhenTheWindowCloses() async throws {
        let harness = try NotificationHarness(notifications: Self.template + """

            recipients:
              ops: { channels: [{ channel: channel.push, address: alerts }] }
            """)
        var ids: [String] = []
        for what in ["disk", "cpu", "memory"] {
            ids += try harness.service.send(NotificationRequest(recipients: ["ops"], template: "event", variables: ["what": .string(what)],
                                                                digestKey: "host-1", digestWindowSeconds: 600))
            harness.advance(60)
        }
        harness.service.waitUntilQuiet()
        #expect(harness.requests.isEmpty, "the window is still open")
        let states = try ids.map { try #require(try harness.store.notification($0)).state }
        #expect(states == [.digesting, .digested, .digested])
        harness.advance(600)
        try await eventually { try harness.states(ids[0]) == [.sent] }
        let request = try #require(harness.requests.first)
        #expect(harness.requests.count == 1)
        #expect(request.text == "- disk\n- cpu\n- memory\n")
        #expect(request.header("Title") == "3 events")
        // A message after the window opens a new digest.
        let later = try harness.service.send(NotificationRequest(recipients: ["ops"], template: "event", variables: ["what": "net"],
                                                                 digestKey: "host-1", digestWindowSeconds: 600))[0]
        #expect(try harness.store.notification(later)?.state == .digesting)
    }

    @Test func retriesGoThroughTheRecoveryPipelineAndHonourRetryAfter() async throws {
        let calls = Mutex(0)
        let harness = try NotificationHarness(notifications: Self.template + """

            recipients:
              ops: { channels: [{ channel: channel.push, address: alerts }] }
            recovery: [{ uses: recovery.retry, with: { max_attempts: 4, delay_ms: 0 } }]
            """) { _ in
            switch calls.withLock({ $0 += 1; return $0 }) {
            case 1: .init(status: 503, text: #"{"code":50301,"error":"overloaded"}"#)
            case 2: .init(status: 429, headers: [("Retry-After", "30")], text: #"{"code":42901,"error":"limit reached"}"#)
            default: .init(status: 200, text: #"{"id":"m-9"}"#)
            }
        }
        let id = try harness.service.send(NotificationRequest(recipients: ["ops"], template: "plain", variables: ["what": "x"]))[0]
        try await eventually { harness.history("\(id)/0").filter { $0 == .queued }.count == 3 }
        let waiting = try #require(try harness.store.deliveries(notification: id).first)
        #expect(waiting.state == .queued)
        #expect(waiting.attempts == 2)
        #expect(waiting.errorClass == "rate_limited")
        #expect(waiting.error?.contains("limit reached") == true)
        #expect(waiting.notBefore >= harness.clock.now + 30, "the server's Retry-After")
        harness.advance(30)
        try await eventually { try harness.states(id) == [.sent] }
        let done = try #require(try harness.store.deliveries(notification: id).first)
        #expect(done.attempts == 3)
        #expect(done.providerID == "m-9")
        #expect(harness.history("\(id)/0") == [.queued, .sending, .queued, .sending, .queued, .sending, .sent])
    }

    @Test func aPermanentFailureFailsOverToTheNextChannel() async throws {
        let harness = try NotificationHarness(notifications: Self.template + """

            recipients:
              ops:
                channels:
                  - { channel: channel.webhook, address: "URL/gone" }
                  - { channel: channel.slack }
            recovery: [{ uses: recovery.retry, with: { max_attempts: 3, delay_ms: 0 } }]
            """) { request in
            request.target == "/gone" ? .init(status: 410, text: "endpoint removed") : .init(status: 200, text: "ok")
        }
        let id = try harness.service.send(NotificationRequest(recipients: ["ops"], template: "plain", variables: ["what": "x"]))[0]
        try await eventually { try harness.states(id) == [.failed, .delivered] }
        let deliveries = try harness.store.deliveries(notification: id)
        #expect(deliveries.map(\.channel) == ["channel.webhook", "channel.slack"])
        #expect(deliveries[0].attempts == 1, "permanent: not retried")
        #expect(deliveries[0].errorClass == "permanent")
        #expect(deliveries[0].error?.contains("endpoint removed") == true)
        #expect(try harness.store.notification(id)?.state == .delivered)
        #expect(harness.requests.map(\.target) == ["/gone", NotificationHarness.slackHookPath])

        // When every channel fails, the message fails and says why.
        let broken = try NotificationHarness(notifications: Self.template + """

            recipients:
              ops: { channels: [{ channel: channel.webhook, address: "URL/gone" }] }
            """) { _ in .init(status: 410, text: "endpoint removed") }
        let lost = try broken.service.send(NotificationRequest(recipients: ["ops"], template: "plain", variables: ["what": "x"]))[0]
        try await eventually { try broken.store.notification(lost)?.state == .failed }
        let record = try #require(try broken.store.notification(lost))
        #expect(record.state == .failed)
        #expect(record.reason?.contains("channel.webhook: HTTP 410: endpoint removed") == true, "\(record.reason ?? "")")
    }

    @Test func aDeliveryLeftSendingByACrashIsSentAgainWithTheSameKey() async throws {
        let harness = try NotificationHarness(notifications: Self.template + """

            recipients:
              ops: { channels: [{ channel: channel.webhook, address: "URL/hook" }] }
            """) { _ in .init(status: 200) }
        // A process that claimed a delivery and died before recording its end.
        let time = harness.clock.now
        let record = NotificationRecord(id: "n-crashed", recipient: "ops", template: "plain", category: nil, priority: .normal,
                                        variables: ["what": "x"], digestKey: nil, state: .queued, source: "cli",
                                        createdAt: time, updatedAt: time)
        let delivery = DeliveryRecord(id: "n-crashed/0", notificationID: "n-crashed", channel: "channel.webhook", route: 0,
                                      state: .sending, priority: .normal, message: ["url": .string("\(harness.server.url)/hook"),
                                                                                    "type": "notification", "data": ["text": "x"]],
                                      attempts: 1, notBefore: time, createdAt: time, updatedAt: time)
        _ = try harness.store.save(NotificationChanges(newNotifications: [record], newDeliveries: [delivery]))
        harness.service.stop()
        harness.start()
        try await eventually { try harness.states("n-crashed") == [.delivered] }
        #expect(harness.requests.first?.header("webhook-id") == "n-crashed/0")
        #expect(try harness.store.deliveries(notification: "n-crashed").first?.attempts == 2)
    }

    @Test func secretsNeverReachTheStore() async throws {
        let harness = try NotificationHarness(notifications: Self.template + """

            recipients:
              ops:
                channels:
                  - { channel: channel.slack }
                  - { channel: channel.webhook, address: "URL/hook" }
            """) { request in
            request.target == NotificationHarness.slackHookPath ? .init(status: 403, text: "invalid_token") : .init(status: 200)
        }
        let id = try harness.service.send(NotificationRequest(recipients: ["ops"], template: "plain", variables: ["what": "x"]))[0]
        try await eventually { try harness.states(id) == [.failed, .delivered] }
        harness.service.stop()
        harness.start()
        var bytes = Data()
        for suffix in ["", "-wal"] {
            bytes += (try? Data(contentsOf: URL(fileURLWithPath: harness.store.path + suffix))) ?? Data()
        }
        #expect(!bytes.isEmpty)
        #expect(bytes.range(of: Data("slack-hook-secret".utf8)) == nil, "the Slack webhook URL is a secret")
        #expect(bytes.range(of: Data(NotificationHarness.signingSecret.utf8)) == nil)
        #expect(bytes.range(of: Data(NotificationHarness.signingSecret.dropFirst(6).utf8)) == nil)
    }
}

/// `uses: notify` steps queue through the service, once per step.
@Suite struct NotifyStepTests {
    @Test func aNotifyStepQueuesOnceAndTheServiceDelivers() async throws {
        let harness = try NotificationHarness(notifications: NotificationDeliveryTests.template + """

            recipients:
              ops: { channels: [{ channel: channel.push, address: alerts }] }
            """)
        let engine = RunEngine(store: harness.store, plugins: harness.plugins, notifications: harness.service,
                               logger: harness.logger)
        defer { engine.shutdown() }
        let yaml = """
            name: tell
            steps:
              - { id: work, uses: noop, with: { what: deploy } }
              - id: tell
                uses: notify
                needs: [work]
                with: { to: ops, template: event, vars: { what: "${{ steps.work.output.what }}" }, priority: high }
            """
        let workflow = try #require(WorkflowLoader(allowExec: false).load(text: yaml, file: "tell.yaml").workflow)
        let runID = try engine.start(workflow: workflow, source: yaml)
        let state = await engine.wait(for: runID)
        #expect(state.status == .succeeded)
        let listed = try #require(state.steps["tell"]?.output?["notifications"]?.arrayValue)
        let ids = listed.compactMap(\.stringValue)
        #expect(ids == ["\(runID)/tell/ops"])
        try await eventually { try harness.states(ids[0]) == [.sent] }
        #expect(harness.requests.map(\.text) == ["deploy happened"])
        #expect(try harness.store.notification(ids[0])?.priority == .high)
        #expect(try harness.store.notification(ids[0])?.source == "\(runID)/tell")

        // The same step queuing again (a resumed run) makes nothing new.
        let again = try harness.service.send(NotificationRequest(recipients: ["ops"], template: "event", variables: ["what": "x"],
                                                                 key: "\(runID)/tell"))
        #expect(again == ids)
        harness.service.waitUntilQuiet()
        #expect(harness.requests.count == 1)
    }

    @Test func validationChecksRecipientsTemplatesAndVariables() throws {
        let harness = try NotificationHarness(notifications: NotificationDeliveryTests.template + """

            recipients:
              ops: { channels: [{ channel: channel.push, address: alerts }] }
            """)
        let yaml = """
            name: bad
            steps:
              - id: one
                uses: notify
                with: { to: [opz], template: evnt }
              - id: two
                uses: notify
                with: { to: ops, template: event, vars: { other: 1 } }
              - id: three
                uses: notify
                with: { to: ops, template: event, vars: { what: "${{ secrets.TOKEN }}" } }
              - id: four
                uses: notify
                with: { to: ops, template: event, vars: { what: "${{ run.id }}" } }
            """
        let catalog = HostCatalog(base: EmptyPluginCatalog(), settings: harness.settings)
        let problems = WorkflowLoader(catalog: catalog, allowExec: false).load(text: yaml, file: "bad.yaml").problems.map(\.description)
        #expect(problems.contains("bad.yaml:5:13: unknown recipient 'opz' (known: ops)"), "\(problems)")
        #expect(problems.contains("bad.yaml:5:24: unknown template 'evnt' (known: event, plain)"), "\(problems)")
        #expect(problems.contains { $0.hasPrefix("bad.yaml:8:39:") && $0.contains("the variable 'what' is not given") }, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("bad.yaml:11:47:") && $0.contains("cannot hold secrets") }, "\(problems)")
        #expect(!problems.contains { $0.hasPrefix("bad.yaml:14") }, "an expression is known at run time")
    }
}
