import Crypto
import Foundation
import Testing
import TrellisCore
import TrellisPluginHost
import TrellisStore
@testable import TrellisRuntime

/// The notification service end to end: real channel plugins, a loopback
/// server, a real store, and a clock the tests move.
@Suite struct NotificationServiceTests {
    static let basics = """
        templates:
          deploy-failed:
            category: deploys
            subject: "{{service}} deploy failed"
            text: "{{service}} failed at step {{step}}.{{#error}} Error: {{error}}{{/error}}"
            html: "<p>{{service}} failed: {{error}}</p>"
            channels:
              channel.slack:
                blocks:
                  - { type: section, text: { type: mrkdwn, text: "*{{service}}* failed at `{{step}}`" } }
          digest-me:
            subject: "{{what}}"
            text: "{{what}} happened"
        recipients:
          ops:
            channels:
              - { channel: channel.webhook, address: "URL/hooks/ops" }
              - { channel: channel.slack }
          night-owl:
            time_zone: America/New_York
            quiet_hours: { start: "22:00", end: "07:00" }
            channels: [{ channel: channel.push, address: alerts }]
          no-deploys:
            opt_out: [deploys]
            channels: [{ channel: channel.push, address: alerts }]
        """

    @Test func aMessageIsRenderedSignedDeliveredAndTracked() async throws {
        let harness = try NotificationHarness(notifications: Self.basics) { _ in .init(status: 204) }
        let ids = try harness.service.send(NotificationRequest(
            recipients: ["ops"], template: "deploy-failed", variables: ["service": "web", "step": "migrate", "error": "<timeout>"]))
        let id = try #require(ids.first)
        try await eventually { try harness.states(id) == [.delivered] }
        #expect(try harness.states(id) == [.delivered])
        #expect(harness.history("\(id)/0") == [.queued, .sending, .delivered])

        let request = try #require(harness.requests.first)
        #expect(request.target == "/hooks/ops")
        let body = try JSONValue(json: request.body)
        #expect(body["type"] == "notification")
        #expect(body["data"]?["subject"] == "web deploy failed")
        #expect(body["data"]?["text"] == "web failed at step migrate. Error: <timeout>", "text is not HTML-escaped")
        #expect(body["data"]?["html"] == "<p>web failed: &lt;timeout&gt;</p>", "html escapes what it inserts")
        // The receiver checks the Standard Webhooks signature.
        #expect(request.header("webhook-id") == "\(id)/0", "the delivery id is the idempotency key")
        let timestamp = try #require(request.header("webhook-timestamp"))
        let key = SymmetricKey(data: Data(base64Encoded: String(NotificationHarness.signingSecret.dropFirst(6)))!)
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(id)/0.\(timestamp).".utf8) + Data(request.body), using: key)
        #expect(request.header("webhook-signature") == "v1," + Data(mac).base64EncodedString())

        let record = try #require(try harness.store.notification(id))
        #expect(record.state == .delivered)
        #expect(record.recipient == "ops")
        #expect(try harness.store.deliveries(notification: id).first?.attempts == 1)
    }

    @Test func aMissingVariableIsAnErrorBeforeAnythingIsQueued() throws {
        let harness = try NotificationHarness(notifications: Self.basics)
        let error = try #require(throws: NotificationError.self) {
            try harness.service.send(NotificationRequest(recipients: ["ops", "nobody"], template: "deploy-failed",
                                                         variables: ["service": "web"]))
        }
        #expect(error.problems.contains { $0.hasPrefix("unknown recipient 'nobody'") })
        #expect(error.problems.contains("template deploy-failed at /text: line 1: the variable 'step' is not given"))
        #expect(error.problems.contains("template deploy-failed at /text: line 1: the variable 'error' is not given"),
                "a section's name must be given too (null leaves it out)")
        #expect(error.problems.contains("template deploy-failed at /channels/channel.slack/blocks/0/text/text: line 1: the variable 'step' is not given"))
        #expect(try harness.store.notifications(limit: 10, state: nil).isEmpty, "nothing was queued")

        // null leaves a section out and is not missing.
        let ok = NotificationService.problems(
            in: NotificationRequest(recipients: ["ops"], template: "deploy-failed", variables: ["service": "web", "step": "s", "error": nil]),
            settings: harness.settings)
        #expect(ok.isEmpty, "\(ok)")
    }

    @Test func aBrokenTemplateIsReportedWithItsPlaceInTheConfig() throws {
        let error = try #require(throws: DeploymentConfigurationError.self) {
            try NotificationHarness(notifications: """
                templates:
                  broken:
                    text: "{{#items}}{{name}}"
                    subject: "{{> header}}"
                recipients: {}
                """)
        }
        let text = "\(error)"
        #expect(text.contains("trellis.yaml:19:7: template broken: line 1: section '{{#items}}' is not closed with '{{/items}}'"), "\(text)")
        #expect(text.contains("template broken: line 1: '{{> header}}': partials"), "\(text)")
    }

    @Test func quietHoursHoldAMessageUntilTheyEndButCriticalPasses() async throws {
        let harness = try NotificationHarness(notifications: Self.basics)
        // 1_800_000_000 is 2027-01-15 08:00 UTC; move to 23:30 in New York (04:30 UTC next day).
        harness.clock.advance(20.5 * 3600)
        let normal = try harness.service.send(NotificationRequest(recipients: ["night-owl"], template: "digest-me",
                                                                  variables: ["what": "disk 80%"]))[0]
        let critical = try harness.service.send(NotificationRequest(recipients: ["night-owl"], template: "digest-me",
                                                                    variables: ["what": "disk full"], priority: .critical))[0]
        // ntfy accepts a message for its subscribers: the receipt says sent.
        try await eventually { try harness.states(critical) == [.sent] }
        #expect(try harness.states(critical) == [.sent])
        let held = try #require(try harness.store.deliveries(notification: normal).first)
        #expect(held.state == .queued)
        // 07:00 in New York is 12:00 UTC: 7.5 hours after 23:30.
        #expect(held.notBefore == harness.clock.now + 7.5 * 3600)
        harness.advance(7.5 * 3600 - 60)
        harness.service.waitUntilQuiet()
        #expect(try harness.states(normal) == [.queued], "still inside the quiet hours")
        harness.advance(60)
        try await eventually { try harness.states(normal) == [.sent] }
        #expect(try harness.states(normal) == [.sent])
        #expect(harness.requests.map(\.text) == ["disk full happened", "disk 80% happened"])
    }

    @Test func anOptedOutCategoryIsSkippedAndSaysWhy() throws {
        let harness = try NotificationHarness(notifications: Self.basics)
        let id = try harness.service.send(NotificationRequest(
            recipients: ["no-deploys"], template: "deploy-failed", variables: ["service": "web", "step": "s", "error": nil]))[0]
        let record = try #require(try harness.store.notification(id))
        #expect(record.state == .skipped)
        #expect(record.reason == "no-deploys opted out of deploys")
        #expect(try harness.store.deliveries(notification: id).isEmpty)
    }
}
