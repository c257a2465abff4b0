import Foundation
import Synchronization
import Testing
import TrellisCore
import TrellisTestSupport
@testable import TrellisPluginHost

/// channel.github against a loopback server that keeps issues like GitHub's
/// REST API: bearer token, API version header, issues and comments, and
/// GitHub's error bodies and rate-limit headers.
@Suite struct GitHubChannelTests {
    final class Repository: Sendable {
        struct Issue { var number: Int; var title: String; var labels: [String]; var comments: [String] }
        let issues = Mutex<[Issue]>([Issue(number: 1, title: "An old pull request", labels: [], comments: [])])
        let quotaSpent = Mutex(false)

        func respond(_ request: LoopbackHTTPServer.Request) -> LoopbackHTTPServer.Response {
            guard request.header("Authorization") == "Bearer ghp_test",
                  request.header("Accept") == "application/vnd.github+json",
                  request.header("X-GitHub-Api-Version") == "2022-11-28" else {
                return .init(status: 401, text: #"{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}"#)
            }
            if quotaSpent.withLock({ $0 }) {
                let reset = Int(Date().timeIntervalSince1970) + 30
                return .init(status: 403, headers: [("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "\(reset)")],
                             text: #"{"message":"API rate limit exceeded for user ID 1."}"#)
            }
            let body = (try? JSONValue(json: request.body)) ?? .null
            let path = request.target.split(separator: "?").first.map(String.init) ?? ""
            switch (request.method, path) {
            case ("GET", "/repos/acme/web/issues"):
                let open = issues.withLock { $0 }.map { issue -> String in
                    let pr = issue.number == 1 ? #","pull_request":{"url":"x"}"# : ""
                    return #"{"number":\#(issue.number),"title":"\#(issue.title)","html_url":"https://github.test/acme/web/issues/\#(issue.number)"\#(pr)}"#
                }
                return .init(status: 200, text: "[" + open.joined(separator: ",") + "]")
            case ("POST", "/repos/acme/web/issues"):
                guard let title = body["title"]?.stringValue, !title.isEmpty else {
                    return .init(status: 422, text: #"{"message":"Validation Failed","errors":[{"resource":"Issue","code":"missing_field","field":"title"}]}"#)
                }
                let labels = (body["labels"]?.arrayValue ?? []).compactMap(\.stringValue)
                let number = issues.withLock { issues in
                    issues.append(Issue(number: issues.count + 1, title: title, labels: labels, comments: []))
                    return issues.count
                }
                return .init(status: 201, text: #"{"number":\#(number),"html_url":"https://github.test/acme/web/issues/\#(number)"}"#)
            case ("POST", let comments) where comments.hasPrefix("/repos/acme/web/issues/") && comments.hasSuffix("/comments"):
                let number = Int(comments.split(separator: "/")[4]) ?? 0
                let found = issues.withLock { issues in
                    guard let index = issues.firstIndex(where: { $0.number == number }) else { return false }
                    issues[index].comments.append(body["body"]?.stringValue ?? "")
                    return true
                }
                guard found else { return .init(status: 404, text: #"{"message":"Not Found"}"#) }
                return .init(status: 201, text: #"{"id":900\#(number),"html_url":"https://github.test/acme/web/issues/\#(number)#issuecomment-900"}"#)
            case ("POST", "/repos/acme/locked/issues"):
                return .init(status: 403, text: #"{"message":"Resource not accessible by personal access token"}"#)
            default:
                return .init(status: 404, text: #"{"message":"Not Found"}"#)
            }
        }
    }

    @Test func opensAnIssueThenCommentsOnItWhenTheSameTitleIsStillOpen() throws {
        let repository = Repository()
        let server = try LoopbackHTTPServer(handler: repository.respond)
        let github = try StampedDeployment().load(
            "channel.github", config: "{ repository: acme/web, api_url: \"\(server.url)\", labels: [trellis], reuse_open_issue: true }",
            secrets: ["token": "ghp_test"])
        let opened = try github.send(["title": "Workflow nightly failed", "body": "Step test failed.", "labels": ["ci"]],
                                     context: .none)
        #expect(opened["id"] == "https://github.test/acme/web/issues/2")
        #expect(opened["detail"]?["action"] == "opened")
        #expect(repository.issues.withLock { $0.last?.labels } == ["trellis", "ci"])

        let again = try github.send(["title": "Workflow nightly failed", "body": "Failed again."], context: .none)
        #expect(again["detail"]?["action"] == "commented")
        #expect(again["detail"]?["issue"] == "2")
        #expect(repository.issues.withLock { $0.count } == 2, "no second issue for the same open title")
        #expect(repository.issues.withLock { $0[1].comments } == ["Failed again."])

        // A pull request with the title is not an issue to reuse.
        let pr = try github.send(["title": "An old pull request", "body": "x"], context: .none)
        #expect(pr["detail"]?["action"] == "opened")

        let direct = try github.send(["issue": 2, "body": "Recovered."], context: .none)
        #expect(direct["id"] == "https://github.test/acme/web/issues/2#issuecomment-900")
    }

    @Test func githubErrorsAreMappedToClasses() throws {
        let repository = Repository()
        let server = try LoopbackHTTPServer(handler: repository.respond)
        let deployment = try StampedDeployment()
        let github = try deployment.load("channel.github", config: "{ repository: acme/web, api_url: \"\(server.url)\" }",
                                         secrets: ["token": "ghp_test"])

        let missing = try #require(throws: PluginCallError.self) { try github.send(["issue": 77, "body": "x"], context: .none) }
        #expect(missing.errorClass == .permanent)
        #expect(missing.message.contains("Not Found"))

        let invalid = try #require(throws: PluginCallError.self) { try github.send(["title": "", "body": "x"], context: .none) }
        #expect(invalid.errorClass == .config, "refused before sending: no title")

        let locked = try deployment.load("channel.github", config: "{ repository: acme/locked, api_url: \"\(server.url)\" }",
                                         secrets: ["token": "ghp_test"])
        let forbidden = try #require(throws: PluginCallError.self) { try locked.send(["title": "t"], context: .none) }
        #expect(forbidden.errorClass == .config)
        #expect(forbidden.message.contains("Resource not accessible"))

        let wrong = try deployment.load("channel.github", config: "{ repository: acme/web, api_url: \"\(server.url)\" }",
                                        secrets: ["token": "ghp_wrong"])
        let refused = try #require(throws: PluginCallError.self) { try wrong.send(["title": "t"], context: .none) }
        #expect(refused.errorClass == .config)
        #expect(refused.message.contains("Bad credentials"))
        #expect(!refused.message.contains("ghp_"), "no token in the message")

        repository.quotaSpent.withLock { $0 = true }
        let limited = try #require(throws: PluginCallError.self) { try github.send(["title": "t"], context: .none) }
        #expect(limited.errorClass == .rateLimited)
        #expect((25_000...31_000).contains(limited.retryAfterMilliseconds), "waits until x-ratelimit-reset")
    }

    @Test func aRepositoryThatIsNotOwnerSlashNameIsRefusedWithItsPlace() throws {
        let deployment = try StampedDeployment()
        let manager = PluginManager(configuration: try deployment.configuration("""
            plugins:
              channel.github:
                config: { repository: acme }
            """), logger: testLogger)
        manager.loadAll()
        let status = try #require(manager.status("channel.github"))
        #expect(status.state == .error)
        #expect(status.reason?.contains("trellis.yaml:3:15: config/repository: must match the pattern") == true, "\(status)")
    }
}
