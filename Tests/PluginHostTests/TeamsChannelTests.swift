import Foundation
import Testing
import TrellisCore
import TrellisTestSupport
@testable import TrellisPluginHost

/// channel.teams against a loopback server that answers like a Teams
/// Workflows webhook (202) and a legacy incoming webhook (200 "1", plain-text
/// errors), and checks the Adaptive Card envelope.
@Suite struct TeamsChannelTests {
    static func server(_ seen: ReceivedRequests) throws -> LoopbackHTTPServer {
        try LoopbackHTTPServer { request in
            seen.append(request)
            guard request.method == "POST", request.header("Content-Type")?.hasPrefix("application/json") == true else {
                return .init(status: 415)
            }
            switch request.target {
            case "/workflows/flow-1/triggers/manual/run?sig=s3cret":
                return .init(status: 202, headers: [("x-ms-workflow-run-id", "08584-run")], text: "")
            case "/webhookb2/legacy-s3cret":
                let body = (try? JSONValue(json: request.body)) ?? .null
                let card = body["attachments"]?.arrayValue?.first?["content"]
                return card?["type"] == "AdaptiveCard" ? .init(status: 200, text: "1")
                    : .init(status: 400, text: "Bad payload received by generic incoming webhook.")
            case "/webhookb2/answers-200-with-an-error":
                return .init(status: 200, text: "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 413")
            case "/workflows/throttled":
                return .init(status: 429, headers: [("Retry-After", "7")], text: "")
            case "/workflows/off":
                return .init(status: 400, text: #"{"error":{"code":"WorkflowTriggerIsNotEnabled","message":"The workflow is disabled."}}"#)
            default:
                return .init(status: 404)
            }
        }
    }

    @Test func aMessageBecomesAnAdaptiveCardPostedToTheWorkflow() throws {
        let seen = ReceivedRequests()
        let server = try Self.server(seen)
        let teams = try StampedDeployment().load(
            "channel.teams", secrets: ["webhook_url": "\(server.url)/workflows/flow-1/triggers/manual/run?sig=s3cret"])
        let receipt = try teams.send([
            "title": "Nightly build failed", "text": "Step `test` failed after 3 attempts.", "severity": "attention",
            "facts": [["title": "Run", "value": "r-42"]], "links": [["title": "Open run", "url": "https://ci.example.com/r/42"]],
        ], context: PluginCallContext(idempotencyKey: "r-42/notify"))
        #expect(receipt["id"] == "08584-run")
        #expect(receipt["status"] == "sent", "202: accepted by the flow, not yet posted")

        let envelope = try JSONValue(json: try #require(seen.first).body)
        #expect(envelope["type"] == "message")
        let attachment = try #require(envelope["attachments"]?.arrayValue?.first)
        #expect(attachment["contentType"] == "application/vnd.microsoft.card.adaptive")
        #expect(attachment["contentUrl"] == .null)
        let card = try #require(attachment["content"])
        #expect(card["type"] == "AdaptiveCard")
        #expect(card["version"] == "1.4")
        #expect(card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json")
        #expect(card["body"] == [
            ["type": "TextBlock", "text": "Nightly build failed", "weight": "Bolder", "size": "Medium", "wrap": true, "color": "Attention"],
            ["type": "TextBlock", "text": "Step `test` failed after 3 attempts.", "wrap": true],
            ["type": "FactSet", "facts": [["title": "Run", "value": "r-42"]]],
        ])
        #expect(card["actions"] == [["type": "Action.OpenUrl", "title": "Open run", "url": "https://ci.example.com/r/42"]])
    }

    @Test func aLegacyWebhookTakesAWholeCardAndItsErrorsAreMapped() throws {
        let seen = ReceivedRequests()
        let server = try Self.server(seen)
        let deployment = try StampedDeployment()
        let legacy = try deployment.load("channel.teams", config: "{ card_version: \"1.2\" }",
                                         secrets: ["webhook_url": "\(server.url)/webhookb2/legacy-s3cret"])
        let card: JSONValue = ["type": "AdaptiveCard", "version": "1.2", "body": [["type": "TextBlock", "text": "hi"]]]
        let receipt = try legacy.send(["card": card], context: PluginCallContext(idempotencyKey: "r/s"))
        #expect(receipt["status"] == "delivered")
        #expect(receipt["id"] == "r/s", "no message id from a legacy webhook: the idempotency key stands in")
        #expect(try JSONValue(json: try #require(seen.first).body)["attachments"]?.arrayValue?.first?["content"] == card)

        let badCard = try #require(throws: PluginCallError.self) { try legacy.send(["card": ["type": "Nope"]], context: .none) }
        #expect(badCard.errorClass == .permanent)
        #expect(badCard.message.contains("Bad payload received"))
        #expect(!badCard.message.contains("s3cret"), "the webhook URL is a secret")

        let throttled = try deployment.load("channel.teams", secrets: ["webhook_url": "\(server.url)/workflows/throttled"])
        let busy = try #require(throws: PluginCallError.self) { try throttled.send(["text": "x"], context: .none) }
        #expect(busy.errorClass == .rateLimited)
        #expect(busy.retryAfterMilliseconds == 7000)

        let off = try deployment.load("channel.teams", secrets: ["webhook_url": "\(server.url)/workflows/off"])
        let disabled = try #require(throws: PluginCallError.self) { try off.send(["text": "x"], context: .none) }
        #expect(disabled.errorClass == .permanent)
        #expect(disabled.message.contains("WorkflowTriggerIsNotEnabled: The workflow is disabled."))

        // A legacy webhook may answer 200 with its failure in the body: not delivered.
        let quiet = try deployment.load("channel.teams", secrets: ["webhook_url": "\(server.url)/webhookb2/answers-200-with-an-error"])
        let hidden = try #require(throws: PluginCallError.self) { try quiet.send(["text": "x"], context: .none) }
        #expect(hidden.errorClass == .permanent)
        #expect(hidden.message.contains("HTTP error 413"))

        let empty = try #require(throws: PluginCallError.self) { try legacy.send([:], context: .none) }
        #expect(empty.errorClass == .config)
    }
}
