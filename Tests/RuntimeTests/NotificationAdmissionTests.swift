import Foundation
import Synchronization
import Testing
import TrellisCore
import TrellisPluginHost
import TrellisStore
@testable import TrellisRuntime

/// The recovery pipeline's strategies are asked before each delivery, as
/// before a workflow step's attempt: an open circuit refuses it without
/// calling the channel, and the message fails over.
@Suite struct NotificationAdmissionTests {
    @Test func anOpenCircuitRefusesDeliveriesWithoutCallingTheChannel() async throws {
        let harness = try NotificationHarness(notifications: NotificationDeliveryTests.template + """

            recipients:
              ops:
                channels:
                  - { channel: channel.webhook, address: "URL/down" }
                  - { channel: channel.slack }
            recovery:
              - uses: recovery.circuit-breaker
                with: { window_size: 2, minimum_throughput: 2, failure_ratio: 0.5, break_ms: 600000 }
            """, workers: 1) { request in
            request.target == "/down" ? .init(status: 500, text: "broken") : .init(status: 200, text: "ok")
        }
        func send(_ what: String) async throws -> String {
            let id = try harness.service.send(NotificationRequest(recipients: ["ops"], template: "plain", variables: ["what": .string(what)]))[0]
            try await eventually { try harness.store.notification(id)?.state == .delivered }
            return id
        }
        // Two failures through the webhook open its circuit; each message
        // still arrives through Slack.
        _ = try await send("one")
        _ = try await send("two")
        #expect(harness.requests.filter { $0.target == "/down" }.count == 2)

        let third = try await send("three")
        #expect(harness.requests.filter { $0.target == "/down" }.count == 2, "the open circuit kept the webhook from being called")
        let deliveries = try harness.store.deliveries(notification: third)
        #expect(deliveries.map(\.channel) == ["channel.webhook", "channel.slack"])
        #expect(deliveries[0].state == .failed)
        #expect(deliveries[0].attempts == 1)
        #expect(deliveries[0].error?.hasPrefix("circuit open until") == true, "\(deliveries[0].error ?? "")")
        #expect(deliveries[1].state == .delivered)
    }
}
