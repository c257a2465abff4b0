import Foundation
import TrellisSDK

/// Opens an issue, or comments on one, through GitHub's REST API with the
/// secret `token` (a fine-grained token with Issues: write). With
/// `reuse_open_issue`, a message whose title matches an open issue becomes
/// a comment on it, so a workflow that keeps failing keeps one issue.
struct GitHubChannel: ChannelPlugin {
    struct Configuration: Decodable {
        /// `owner/name` (the manifest's schema checks the form).
        var repository: String
        var api_url: String?
        /// Labels every opened issue gets.
        var labels: [String]?
        var reuse_open_issue: Bool?
    }

    struct Message: Decodable {
        var title: String?
        var body: String?
        /// Comment on this issue instead of opening one.
        var issue: Int?
        var labels: [String]?
        var assignees: [String]?
    }

    static let id = "channel.github"
    static let version = "1.0.0"
    static let summary = "Opens or comments on a GitHub issue through the REST API."

    let configuration: Configuration
    let base: String
    let token: String

    init(configuration: Configuration, host: TrellisHost) throws {
        self.configuration = configuration
        base = (configuration.api_url ?? "https://api.github.com").trimmingCharacters(in: ["/"])
        token = try host.secret("token")
    }

    func send(_ message: Message, context: CallContext) throws -> DeliveryReceipt {
        let repository = "\(base)/repos/\(configuration.repository)"
        if let number = try message.issue ?? reusableIssue(for: message, in: repository, context: context) {
            guard let body = message.body, !body.isEmpty else {
                throw PluginError.config("a comment needs a `body`")
            }
            let created = try call("POST", "\(repository)/issues/\(number)/comments", ["body": .string(body)], context)
            return DeliveryReceipt(id: created.html_url ?? context.idempotencyKey, status: .delivered,
                                   detail: ["issue": String(number), "action": "commented"])
        }
        guard let title = message.title, !title.isEmpty else {
            throw PluginError.config("opening an issue needs a `title` (or give `issue` to comment)")
        }
        var fields: [String: JSON] = ["title": .string(title)]
        if let body = message.body { fields["body"] = .string(body) }
        let labels = (configuration.labels ?? []) + (message.labels ?? [])
        if !labels.isEmpty { fields["labels"] = .array(labels.map(JSON.string)) }
        if let assignees = message.assignees, !assignees.isEmpty { fields["assignees"] = .array(assignees.map(JSON.string)) }
        let created = try call("POST", "\(repository)/issues", fields, context)
        return DeliveryReceipt(id: created.html_url ?? context.idempotencyKey, status: .delivered,
                               detail: ["issue": created.number.map(String.init) ?? "", "action": "opened"])
    }

    /// The open issue with this message's title, when reuse is on.
    func reusableIssue(for message: Message, in repository: String, context: CallContext) throws -> Int? {
        guard configuration.reuse_open_issue == true, let title = message.title else { return nil }
        var query = "state=open&per_page=100"
        if let labels = configuration.labels, !labels.isEmpty {
            query += "&labels=" + (labels.joined(separator: ",").addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        }
        let response = try context.http(HTTPRequest(url: "\(repository)/issues?\(query)", headers: headers))
        try check(response)
        let open = try JSONDecoder().decode([Issue].self, from: Data(response.body))
        // The issues list includes pull requests; those are not reused.
        return open.first { $0.title == title && $0.pull_request == nil }?.number
    }

    struct Issue: Decodable {
        var number: Int?
        var title: String?
        var html_url: String?
        var pull_request: JSON?
    }

    var headers: [(name: String, value: String)] {
        [("Authorization", "Bearer \(token)"), ("Accept", "application/vnd.github+json"),
         ("X-GitHub-Api-Version", "2022-11-28")]
    }

    func call(_ method: String, _ url: String, _ fields: [String: JSON], _ context: CallContext) throws -> Issue {
        var request = HTTPRequest.json(url, body: JSON.object(fields).serialized, headers: headers)
        request.method = method
        let response = try context.http(request)
        try check(response)
        return try JSONDecoder().decode(Issue.self, from: Data(response.body))
    }

    func check(_ response: HTTPResponse) throws {
        guard response.errorClass != nil else { return }
        throw Self.classify(response, now: Date())
    }

    struct APIError: Decodable {
        struct Detail: Decodable {
            var resource: String?
            var field: String?
            var code: String?
            var message: String?
        }
        var message: String?
        var errors: [Detail]?
    }

    /// GitHub's error answers: `{"message", "errors": [...]}`. A 403 or 429
    /// is a rate limit when the quota is spent (`x-ratelimit-remaining: 0`,
    /// wait until `x-ratelimit-reset`) or when it says Retry-After (the
    /// secondary limits); any other 403 is a missing permission.
    static func classify(_ response: HTTPResponse, now: Date) -> PluginError {
        let answer = try? JSONDecoder().decode(APIError.self, from: Data(response.body))
        var text = answer?.message ?? (response.body.isEmpty ? "HTTP \(response.status)" : String(response.text.prefix(300)))
        let details = (answer?.errors ?? []).map { detail in
            detail.message ?? [detail.resource, detail.field, detail.code].compactMap { $0 }.joined(separator: " ")
        }
        if !details.isEmpty { text += " (" + details.joined(separator: "; ") + ")" }
        let message = "GitHub \(response.status): \(text)"
        if response.status == 403 || response.status == 429 {
            if let seconds = response.header("Retry-After").flatMap(UInt64.init) {
                return PluginError(.rateLimited, message, retryAfterMilliseconds: seconds * 1000)
            }
            if response.header("x-ratelimit-remaining") == "0" {
                let reset = response.header("x-ratelimit-reset").flatMap(Double.init) ?? now.timeIntervalSince1970 + 60
                let wait = max(1000, UInt64(((reset - now.timeIntervalSince1970) * 1000).rounded(.up)))
                return PluginError(.rateLimited, message, retryAfterMilliseconds: wait)
            }
            if response.status == 429 { return PluginError(.rateLimited, message, retryAfterMilliseconds: 60_000) }
            return PluginError(.config, message + " — the token lacks a permission for this repository")
        }
        if response.status == 401 { return PluginError(.config, message + " — check the token") }
        if response.status == 404 {
            return PluginError(.permanent, message + " — the repository or issue does not exist, or the token cannot see it")
        }
        return PluginError(response.errorClass ?? .permanent, message, retryAfterMilliseconds: response.retryAfterMilliseconds)
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(GitHubChannel.self) }
