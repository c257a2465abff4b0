import Foundation
import Testing
import TrellisCore
import TrellisTestSupport
@testable import TrellisPluginHost

/// channel.push against a loopback server that answers like ntfy.
@Suite struct PushChannelTests {
    @Test func aPublishCarriesItsHeadersAndTheServersIDComesBack() throws {
        let seen = ReceivedRequests()
        let server = try LoopbackHTTPServer { request in
            seen.append(request)
            guard request.header("Authorization") == "Bearer tk_secret" else {
                return .init(status: 403, text: #"{"code":40301,"http":403,"error":"forbidden"}"#)
            }
            if request.target == "/limited" {
                return .init(status: 429, headers: [("Retry-After", "9")], text: #"{"code":42901,"http":429,"error":"limit reached"}"#)
            }
            return .init(status: 200, text: #"{"id":"hwQ2YpKdmg","time":1700000000,"event":"message","topic":"deploys"}"#)
        }
        let deployment = try StampedDeployment()
        let push = try deployment.load("channel.push", config: "{ server: \"\(server.url)\", topic: deploys }",
                                       secrets: ["token": "tk_secret"])
        let receipt = try push.send([
            "message": "deploy of web failed", "title": "Échec du déploiement", "priority": "high",
            "tags": ["warning", "rotating_light"], "click": "https://ci.example.com/runs/7",
        ], context: .none)
        #expect(receipt["id"] == "hwQ2YpKdmg")
        let request = try #require(seen.first)
        #expect(request.method == "POST")
        #expect(request.target == "/deploys")
        #expect(request.text == "deploy of web failed")
        #expect(request.header("Priority") == "4")
        #expect(request.header("Tags") == "warning,rotating_light")
        #expect(request.header("Click") == "https://ci.example.com/runs/7")
        #expect(request.header("Title") == "=?UTF-8?B?\(Data("Échec du déploiement".utf8).base64EncodedString())?=")

        let limited = try #require(throws: PluginCallError.self) {
            try push.send(["message": "x", "topic": "limited"], context: .none)
        }
        #expect(limited.errorClass == .rateLimited)
        #expect(limited.retryAfterMilliseconds == 9000)
        #expect(limited.message.contains("limit reached"))
        let badTopic = try #require(throws: PluginCallError.self) { try push.send(["message": "x", "topic": "a/b"], context: .none) }
        #expect(badTopic.errorClass == .config)
    }
}
