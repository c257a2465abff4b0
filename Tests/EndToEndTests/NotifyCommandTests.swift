import Foundation
import Synchronization
import Testing
import TrellisCore
import TrellisPluginHost
import TrellisTestSupport

/// `trellis notify` and `trellis notifications` as an admin uses them: a
/// deployment config with a signed webhook recipient, a real receiver on
/// 127.0.0.1, and the store the commands share.
@Suite struct NotifyCommandTests {
    static let secret = "whsec_" + Data("end to end signing secret, 32 b!".utf8).base64EncodedString()

    final class Received: @unchecked Sendable {
        let requests = Mutex<[LoopbackHTTPServer.Request]>([])
    }

    func workspace(server: LoopbackHTTPServer) throws -> Workspace {
        let workspace = try Workspace()
        let secretFile = try workspace.write("signing", Self.secret)
        try workspace.config("""
              channel.webhook:
                egress: [127.0.0.1]
                secrets: { signing_secret: "${file:\(secretFile)}" }
            """, extra: """
            store: trellis.db
            notifications:
              templates:
                hello: { subject: "Hi {{name}}", text: "Hello {{name}}, {{count}} new" }
              recipients:
                alice: { channels: [{ channel: channel.webhook, address: "\(server.url)/hook" }] }

            """)
        return workspace
    }

    @Test func aMessageIsDeliveredAndShownWithoutItsSecret() throws {
        let received = Received()
        let server = try LoopbackHTTPServer { request in
            received.requests.withLock { $0.append(request) }
            return .init(status: 204)
        }
        let workspace = try workspace(server: server)
        let sent = try workspace.trellis("notify", "--to", "alice", "--template", "hello", "--var", "name=Ada", "--var", "count=3",
                                         "--json")
        #expect(sent.status == 0, "\(sent.stderr)")
        let messages = try JSONValue(json: Data(sent.stdout.utf8))
        let id = try #require(messages.arrayValue?.first?["id"]?.stringValue)
        #expect(messages.arrayValue?.first?["state"] == "delivered")

        let request = try #require(received.requests.withLock { $0.first })
        #expect(request.header("webhook-id") == "\(id)/0")
        #expect(request.header("webhook-signature")?.hasPrefix("v1,") == true)
        #expect(request.text.contains("Hello Ada, 3 new"))

        let shown = try workspace.trellis("notifications", "show", id, "--json")
        #expect(shown.status == 0, "\(shown.stderr)")
        let record = try JSONValue(json: Data(shown.stdout.utf8))
        #expect(record["state"] == "delivered")
        #expect(record["deliveries"]?.arrayValue?.first?["channel"] == "channel.webhook")
        #expect(record["deliveries"]?.arrayValue?.first?["attempts"] == 1)
        let listed = try workspace.trellis("notifications", "list")
        #expect(listed.stdout.contains(id))

        // The signing secret is in none of it.
        let key = String(Self.secret.dropFirst("whsec_".count))
        for output in [sent, shown, listed] {
            #expect(!output.stdout.contains(key) && !output.stderr.contains(key))
        }
    }

    @Test(arguments: [
        (["--to", "bob", "--template", "hello", "--var", "name=A", "--var", "count=1"], "unknown recipient 'bob' (known: alice)"),
        (["--to", "alice", "--template", "helo"], "unknown template 'helo' (known: hello)"),
        (["--to", "alice", "--template", "hello", "--var", "name=A"], "line 1: the variable 'count' is not given"),
        (["--to", "alice", "--template", "hello", "--var", "name=A", "--var", "count=1", "--priority", "urgent"], "priority"),
    ])
    func aBadRequestSaysWhatIsWrongAndQueuesNothing(arguments: [String], problem: String) throws {
        let server = try LoopbackHTTPServer { _ in .init(status: 204) }
        let workspace = try workspace(server: server)
        let result = try CLI.trellis(["notify"] + arguments, in: workspace.path)
        #expect(result.status != 0)
        #expect(result.stderr.contains(problem), "\(result.stderr)")
        #expect(server.connectionsAccepted == 0)
        let listed = try workspace.trellis("notifications", "list", "--json")
        #expect(try JSONValue(json: Data(listed.stdout.utf8)).arrayValue?.isEmpty == true, "\(listed.stdout) \(listed.stderr)")
    }
}
