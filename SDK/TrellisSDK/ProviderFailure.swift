/// How a model API's failure becomes a classified error, the same way for
/// every provider: the router falls back, cools down or gives up on the
/// class and the reason, never on the text.
///
/// - 429 and per-minute limits: `rate_limited`, with the wait from the
///   `Retry-After` header or from the body ("try again in 20s", `retryDelay`).
/// - Quota, billing or spend limits (also as 429, or 402): `permanent`, reason `quota`.
/// - A request longer than the model's window: `permanent`, reason `context_length`.
/// - A refusal on content grounds: `permanent`, reason `content_policy`.
/// - 500, 502, 503, 504, 529 and "overloaded": `retryable` (reason `overloaded` for 529).
/// - 401 and 403: `config` (the key is wrong or lacks access).
public enum ProviderFailure {
    /// The error for a failed `response`. `type`, `code` and `message` are
    /// what the service's error body said (any may be nil).
    public static func error(_ service: String, response: HTTPResponse, type: String? = nil, code: String? = nil,
                             message: String? = nil) -> PluginError {
        let detail = message ?? (response.body.isEmpty ? "" : String(response.text.prefix(300)))
        let text = "\(service): HTTP \(response.status)" + ([type, code].compactMap { $0 }.isEmpty ? "" : " (\([type, code].compactMap { $0 }.joined(separator: ", ")))")
            + (detail.isEmpty ? "" : ": \(detail)")
        let words = [type, code, message].compactMap { $0?.lowercased() }.joined(separator: " ")
        if (300..<400).contains(response.status) {
            return PluginError(.config, "\(service): HTTP \(response.status): the service redirects to "
                               + "\(response.header("Location") ?? "another address"), and redirects are not followed; "
                               + "set base_url to the final address")
        }
        if let reason = reason(words) {
            if reason == "quota" || reason == "context_length" || reason == "content_policy" {
                return PluginError(.permanent, text, reason: reason)
            }
        }
        switch response.status {
        case 429:
            let wait = response.retryAfterMilliseconds > 0 && response.header("Retry-After") != nil
                ? response.retryAfterMilliseconds : (retryAfter(inText: response.text) ?? response.retryAfterMilliseconds)
            return PluginError(.rateLimited, text, retryAfterMilliseconds: max(wait, 1), reason: "rate_limit")
        case 402:
            return PluginError(.permanent, text, reason: "quota")
        case 401, 403:
            return PluginError(.config, text + " — check the API key the deployment gives this plugin")
        case 529:
            return PluginError(.retryable, text, reason: "overloaded")
        case 500, 502, 503, 504:
            if response.errorClass == .rateLimited {
                return PluginError(.rateLimited, text, retryAfterMilliseconds: response.retryAfterMilliseconds,
                                   reason: "overloaded")
            }
            return PluginError(.retryable, text, reason: words.contains("overload") ? "overloaded" : nil)
        default:
            if words.contains("overload") { return PluginError(.retryable, text, reason: "overloaded") }
            return PluginError(response.errorClass ?? .permanent, text,
                               retryAfterMilliseconds: response.retryAfterMilliseconds)
        }
    }

    /// An error event inside a stream that had already begun: the answer
    /// is incomplete, so whoever routes it may move to another deployment.
    public static func streamError(_ service: String, type: String?, message: String?, afterText: Bool) -> PluginError {
        let words = [type, message].compactMap { $0?.lowercased() }.joined(separator: " ")
        let text = "\(service): the stream carried an error" + (type.map { " (\($0))" } ?? "") + (message.map { ": \($0)" } ?? "")
        switch reason(words) {
        case "quota"?: return PluginError(.permanent, text, reason: "quota")
        case "context_length"?: return PluginError(.permanent, text, reason: "context_length")
        case "content_policy"?: return PluginError(.permanent, text, reason: "content_policy")
        default: break
        }
        if words.contains("rate_limit") || words.contains("rate limit") {
            return PluginError(.rateLimited, text, retryAfterMilliseconds: 1000, reason: afterText ? "stream_broken" : "rate_limit")
        }
        return PluginError(.retryable, text, reason: afterText ? "stream_broken" : (words.contains("overload") ? "overloaded" : nil))
    }

    /// The reason words of an error body point to, if any.
    static func reason(_ words: String) -> String? {
        if words.contains("insufficient_quota") || words.contains("billing") || words.contains("quota exceeded")
            || words.contains("exceeded your current quota") || words.contains("spend limit") || words.contains("credit balance") {
            return "quota"
        }
        if words.contains("context_length") || words.contains("context length") || words.contains("context window")
            || words.contains("prompt is too long") || words.contains("too many tokens") || words.contains("input token count")
            || words.contains("maximum context") || words.contains("exceeds the maximum number of tokens") {
            return "context_length"
        }
        if words.contains("content_policy") || words.contains("content policy") || words.contains("content_filter")
            || words.contains("content management policy") || words.contains("safety") || words.contains("flagged") {
            return "content_policy"
        }
        return nil
    }

    /// A wait a service wrote into its message or body: "try again in 20s",
    /// "in 1.5s", "in 300ms", or a `"retryDelay": "30s"` field.
    public static func retryAfter(inText text: String) -> UInt64? {
        let lower = text.lowercased()
        for marker in ["try again in ", "retry in ", "\"retrydelay\": \"", "\"retrydelay\":\""] {
            guard let range = lower.range(of: marker) else { continue }
            let rest = lower[range.upperBound...]
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard let value = Double(number), value >= 0 else { continue }
            let unit = rest.dropFirst(number.count).prefix(2)
            let milliseconds = unit.hasPrefix("ms") ? value : (unit.hasPrefix("m") && !unit.hasPrefix("ms") ? value * 60_000 : value * 1000)
            return UInt64(min(milliseconds.rounded(.up), 86_400_000))
        }
        return nil
    }
}

extension PluginError {
    /// A stream that ended or broke after `text` had been sent: retryable,
    /// with the reason `stream_broken` so the router can move on mid-answer.
    public static func streamBroken(_ message: String, after text: String) -> PluginError {
        PluginError(.retryable, message + (text.isEmpty ? "" : " (after \(text.count) characters of the answer)"),
                    reason: text.isEmpty ? nil : "stream_broken")
    }
}
