import Foundation
import Testing
import TrellisCore
import TrellisTestSupport
@testable import TrellisPluginHost

/// channel.sms against a loopback server that checks a Twilio-style
/// Messages API request: the path, basic auth and the form fields.
@Suite struct SMSChannelTests {
    static func form(_ body: String) -> [String: String] {
        Dictionary(body.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }, uniquingKeysWith: { $1 })
    }

    @Test func aMessageIsPostedAsAFormWithBasicAuth() throws {
        let seen = ReceivedRequests()
        let server = try LoopbackHTTPServer { request in
            seen.append(request)
            let expected = "Basic " + Data("AC0123:tok-secret".utf8).base64EncodedString()
            guard request.header("Authorization") == expected else {
                return .init(status: 401, text: #"{"code":20003,"message":"Authenticate","status":401}"#)
            }
            guard request.target == "/2010-04-01/Accounts/AC0123/Messages.json",
                  request.header("Content-Type") == "application/x-www-form-urlencoded" else { return .init(status: 404) }
            if Self.form(request.text)["To"] == "+15550000000" {
                return .init(status: 400, text: #"{"code":21211,"message":"The 'To' number +15550000000 is not a valid phone number.","status":400}"#)
            }
            return .init(status: 201, text: #"{"sid":"SM9f3a","status":"queued"}"#)
        }
        let deployment = try StampedDeployment()
        let sms = try deployment.load(
            "channel.sms", config: "{ account_sid: AC0123, from: \"+15551230000\", api_url: \"\(server.url)\", max_segments: 3 }",
            secrets: ["auth_token": "tok-secret"])
        let text = "Deploy failed: web & api (run r-7) — see https://ci.example.com/r/7?x=1"
        let receipt = try sms.send(["to": "+15557654321", "body": .string(text)], context: .none)
        #expect(receipt["id"] == "SM9f3a")
        #expect(receipt["status"] == "queued")
        #expect(receipt["detail"]?["encoding"] == "UCS-2", "the em dash is not in GSM-7")
        #expect(receipt["detail"]?["segments"] == "2")
        let fields = Self.form(try #require(seen.first).text)
        #expect(fields == ["To": "+15557654321", "From": "+15551230000", "Body": text])

        let invalid = try #require(throws: PluginCallError.self) { try sms.send(["to": "+15550000000", "body": "x"], context: .none) }
        #expect(invalid.errorClass == .permanent)
        #expect(invalid.message.contains("not a valid phone number. (code 21211)"))
        let tooLong = try #require(throws: PluginCallError.self) {
            try sms.send(["to": "+15557654321", "body": .string(String(repeating: "ж", count: 300))], context: .none)
        }
        #expect(tooLong.errorClass == .config)
        #expect(seen.all.count == 2, "the over-long text was refused before any request")
    }

    @Test func segmentCounts() throws {
        // GSM-7: 160 in one, 153 per part after that; extension characters count twice.
        let cases: [(String, String, Int)] = [
            (String(repeating: "a", count: 160), "GSM-7", 1), (String(repeating: "a", count: 161), "GSM-7", 2),
            (String(repeating: "€", count: 80), "GSM-7", 1), (String(repeating: "€", count: 81), "GSM-7", 2),
            (String(repeating: "ж", count: 70), "UCS-2", 1), (String(repeating: "ж", count: 71), "UCS-2", 2),
            (String(repeating: "ж", count: 134), "UCS-2", 2), (String(repeating: "ж", count: 135), "UCS-2", 3),
        ]
        let deployment = try StampedDeployment()
        let server = try LoopbackHTTPServer { _ in .init(status: 201, text: #"{"sid":"SM1"}"#) }
        let sms = try deployment.load("channel.sms", config: "{ account_sid: AC1, from: MG0001, api_url: \"\(server.url)\" }",
                                      secrets: ["auth_token": "t"])
        for (text, encoding, segments) in cases {
            let receipt = try sms.send(["to": "+15557654321", "body": .string(text)], context: .none)
            #expect(receipt["detail"]?["encoding"] == .string(encoding), "\(text.prefix(3))… ×\(text.count)")
            #expect(receipt["detail"]?["segments"] == .string(String(segments)), "\(text.prefix(3))… ×\(text.count)")
        }
    }
}
