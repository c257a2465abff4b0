import Foundation
import Synchronization
import Testing
import TrellisCore
import TrellisTestSupport
@testable import TrellisPluginHost

/// channel.slack against a loopback server that speaks Slack's two wire
/// formats: incoming webhooks (plain-text answers) and the Web API
/// (`{"ok": …}` answers, bearer token).
@Suite struct SlackChannelTests {
    static func server(_ seen: ReceivedRequests) throws -> LoopbackHTTPServer {
        try LoopbackHTTPServer { request in
            seen.append(request)
            let body = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any] ?? [:]
            guard request.header("Content-Type")?.hasPrefix("application/json") == true else { return .init(status: 415) }
            if request.target == "/services/T0/B0/hook-secret" {
                return body["text"] as? String == "bad" ? .init(status: 400, text: "invalid_payload") : .init(status: 200, text: "ok")
            }
            guard request.target == "/api/chat.postMessage" else { return .init(status: 404) }
            guard request.header("Authorization") == "Bearer xoxb-test-token" else {
                return .init(status: 200, text: #"{"ok":false,"error":"invalid_auth"}"#)
            }
            switch body["channel"] as? String {
            case "#missing": return .init(status: 200, text: #"{"ok":false,"error":"channel_not_found"}"#)
            case "#busy": return .init(status: 429, headers: [("Retry-After", "5")], text: "")
            default: return .init(status: 200, text: #"{"ok":true,"channel":"C0123","ts":"1700000000.000100"}"#)
            }
        }
    }

    @Test func anIncomingWebhookGetsTextAndBlocks() throws {
        let seen = ReceivedRequests()
        let server = try Self.server(seen)
        let deployment = try StampedDeployment()
        let slack = try deployment.load("channel.slack", config: "{ username: trellis }",
                              secrets: ["webhook_url": "\(server.url)/services/T0/B0/hook-secret"])
        let blocks: JSONValue = [["type": "section", "text": ["type": "mrkdwn", "text": "*deploy* failed"]]]
        let receipt = try slack.send(["text": "deploy failed", "blocks": blocks], context: PluginCallContext(idempotencyKey: "r/s"))
        #expect(receipt["status"] == "delivered")
        let body = try JSONValue(json: try #require(seen.first).body)
        #expect(body == ["text": "deploy failed", "blocks": blocks, "username": "trellis"])

        let bad = try #require(throws: PluginCallError.self) { try slack.send(["text": "bad"], context: .none) }
        #expect(bad.errorClass == .permanent)
        #expect(bad.message.contains("invalid_payload"))
        #expect(!bad.message.contains("hook-secret"), "the webhook URL is a secret")
    }

    @Test func chatPostMessageReturnsTheTimestampAndMapsSlackErrors() throws {
        let seen = ReceivedRequests()
        let server = try Self.server(seen)
        let deployment = try StampedDeployment()
        let slack = try deployment.load("channel.slack", config: "{ mode: api, api_url: \"\(server.url)/api\", channel: \"#ops\" }",
                              secrets: ["token": "xoxb-test-token"])
        let receipt = try slack.send(["text": "hello", "thread_ts": "1699999999.000001"], context: .none)
        #expect(receipt["id"] == "1700000000.000100")
        #expect(receipt["detail"]?["channel"] == "C0123")
        let body = try JSONValue(json: try #require(seen.first).body)
        #expect(body == ["channel": "#ops", "text": "hello", "thread_ts": "1699999999.000001"])

        let missing = try #require(throws: PluginCallError.self) { try slack.send(["text": "x", "channel": "#missing"], context: .none) }
        #expect(missing.errorClass == .permanent)
        #expect(missing.message.contains("channel_not_found"))
        let busy = try #require(throws: PluginCallError.self) { try slack.send(["text": "x", "channel": "#busy"], context: .none) }
        #expect(busy.errorClass == .rateLimited)
        #expect(busy.retryAfterMilliseconds == 5000)

        let wrongToken = try StampedDeployment().load("channel.slack", config: "{ mode: api, api_url: \"\(server.url)/api\", channel: \"#ops\" }",
                                        secrets: ["token": "xoxb-wrong"])
        let refused = try #require(throws: PluginCallError.self) { try wrongToken.send(["text": "x"], context: .none) }
        #expect(refused.errorClass == .config)
        #expect(!refused.message.contains("xoxb"), "no token in the message")
    }
}
