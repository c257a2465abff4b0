import Crypto
import Foundation
import Synchronization
import Testing
import TrellisCore
import TrellisTestSupport
@testable import TrellisPluginHost

/// channel.webhook against a real receiver on 127.0.0.1 that checks the
/// Standard Webhooks signature with its own HMAC (swift-crypto; the plugin
/// signs with libcrypto).
@Suite struct WebhookChannelTests {
    static let secret = "whsec_" + Data("a key of thirty-two bytes, exact".utf8).base64EncodedString()
    static let previous = "whsec_" + Data("the previous key, before rotation".utf8).base64EncodedString()

    /// The receiver's check, written from the spec: any `v1,` entry that
    /// matches HMAC-SHA256(key, id.timestamp.body) under any known secret.
    static func verify(_ request: LoopbackHTTPServer.Request, secrets: [String]) -> Bool {
        guard let id = request.header("webhook-id"), let timestamp = request.header("webhook-timestamp"),
              let signatures = request.header("webhook-signature") else { return false }
        let content = Data("\(id).\(timestamp).".utf8) + Data(request.body)
        let expected = secrets.map { secret in
            let key = SymmetricKey(data: Data(base64Encoded: String(secret.dropFirst("whsec_".count)))!)
            return Data(HMAC<SHA256>.authenticationCode(for: content, using: key)).base64EncodedString()
        }
        return signatures.split(separator: " ").contains { entry in
            entry.hasPrefix("v1,") && expected.contains(String(entry.dropFirst(3)))
        }
    }

    func webhook(_ deployment: StampedDeployment, port: Int, secrets: [String: String],
                 egress: String = "127.0.0.1") throws -> PluginInstance {
        try deployment.load("channel.webhook", config: "{ url: \"http://127.0.0.1:\(port)/hooks\", headers: { X-Source: trellis } }",
                            secrets: secrets, egress: egress)
    }

    @Test func aDeliveryIsSignedAndCarriesTheIdempotencyKeyAsItsID() throws {
        let deployment = try StampedDeployment()
        let received = Mutex<[LoopbackHTTPServer.Request]>([])
        let server = try LoopbackHTTPServer { request in
            received.withLock { $0.append(request) }
            return .init(status: Self.verify(request, secrets: [Self.secret]) ? 204 : 401)
        }
        let webhook = try webhook(deployment, port: server.port, secrets: ["signing_secret": Self.secret])
        let receipt = try webhook.send(["type": "run.failed", "data": ["run": "r-1", "step": "deploy"]],
                                       context: PluginCallContext(idempotencyKey: "r-1/notify", runID: "r-1", stepID: "notify"))
        #expect(receipt["id"] == "r-1/notify")
        #expect(receipt["status"] == "delivered")
        let request = try #require(received.withLock { $0.first })
        #expect(request.method == "POST")
        #expect(request.target == "/hooks")
        #expect(request.header("webhook-id") == "r-1/notify")
        #expect(request.header("Content-Type") == "application/json")
        #expect(request.header("X-Source") == "trellis")
        let timestamp = try #require(request.header("webhook-timestamp").flatMap(Double.init))
        #expect(abs(timestamp - Date().timeIntervalSince1970) < 60)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
        #expect(body["type"] as? String == "run.failed")
        #expect((body["data"] as? [String: Any])?["step"] as? String == "deploy")
        #expect(body["timestamp"] is String)
        #expect(Self.verify(request, secrets: [Self.secret]))
        var tampered = request
        tampered.body = Array(request.body.dropLast()) + [UInt8(ascii: " ")]
        #expect(!Self.verify(tampered, secrets: [Self.secret]), "a changed body fails the check")
    }

    @Test func duringARotationBothSecretsSign() throws {
        let deployment = try StampedDeployment()
        let received = Mutex<[LoopbackHTTPServer.Request]>([])
        let server = try LoopbackHTTPServer { request in
            received.withLock { $0.append(request) }
            return .init(status: 200)
        }
        let webhook = try webhook(deployment, port: server.port,
                                  secrets: ["signing_secret": Self.secret, "previous_signing_secret": Self.previous])
        _ = try webhook.send(["data": ["n": 1]], context: PluginCallContext(idempotencyKey: "k"))
        let request = try #require(received.withLock { $0.first })
        #expect(request.header("webhook-signature")?.split(separator: " ").count == 2)
        #expect(Self.verify(request, secrets: [Self.secret]), "a receiver on the new secret accepts it")
        #expect(Self.verify(request, secrets: [Self.previous]), "a receiver still on the old secret accepts it")
    }

    @Test func receiverAnswersMapToErrorClasses() throws {
        let deployment = try StampedDeployment()
        let server = try LoopbackHTTPServer { request in
            switch request.header("X-Want") {
            case "429": .init(status: 429, headers: [("Retry-After", "3")], text: "busy")
            case "410": .init(status: 410, text: "endpoint removed")
            case "500": .init(status: 500, text: "oops")
            case "302": .init(status: 302, headers: [("Location", "https://elsewhere.example/hook")])
            case "304": .init(status: 304)
            default: .init(status: 200)
            }
        }
        let webhook = try webhook(deployment, port: server.port, secrets: ["signing_secret": Self.secret])
        func failure(_ want: String) throws -> PluginCallError {
            try #require(throws: PluginCallError.self) {
                try webhook.send(["headers": ["X-Want": .string(want)]], context: PluginCallContext(idempotencyKey: want))
            }
        }
        let limited = try failure("429")
        #expect(limited.errorClass == .rateLimited)
        #expect(limited.retryAfterMilliseconds == 3000)
        let gone = try failure("410")
        #expect(gone.errorClass == .permanent)
        #expect(gone.message.contains("HTTP 410: endpoint removed"))
        #expect(try failure("500").errorClass == .retryable)
        // A redirect delivered nothing: it is not followed, and not a success.
        let moved = try failure("302")
        #expect(moved.errorClass == .config)
        #expect(moved.message.contains("HTTP 302: the receiver redirects to https://elsewhere.example/hook"), "\(moved.message)")
        #expect(try failure("304").errorClass == .config)
    }

    @Test func aHostOutsideTheAllowListIsRefusedAndTheSecretNeverShows() throws {
        let deployment = try StampedDeployment()
        let server = try LoopbackHTTPServer { _ in .init(status: 200) }
        let webhook = try webhook(deployment, port: server.port, secrets: ["signing_secret": Self.secret],
                                  egress: "hooks.example.com")
        let refused = try #require(throws: PluginCallError.self) {
            try webhook.send(["data": [:]], context: PluginCallContext(idempotencyKey: "k"))
        }
        #expect(refused.errorClass == .config)
        #expect(refused.message.contains("egress refused"))
        #expect(!refused.message.contains(Self.secret))
        #expect(server.connectionsAccepted == 0)
    }
}
