import TrellisCore

/// A routed request's answer, normalized across providers, with what the
/// router adds: which deployment answered (and which parts each wrote when
/// a stream moved on), cost, latency, whether it came from the cache, and
/// every attempt made.
public struct RoutedAnswer: Sendable {
    public var alias: String
    public var deployment: String
    public var model: String
    public var text: String
    public var toolCalls: JSONValue?
    public var finishReason: String
    public var inputTokens: Int
    public var outputTokens: Int
    public var cost: Double = 0
    public var latencySeconds: Double = 0
    public var cacheHit = false
    /// A semantic cache hit's cosine similarity to the prompt it answered.
    public var similarity: Double?
    /// When a stream broke and the next deployment went on: who wrote what.
    public var parts: [(deployment: String, text: String)] = []
    public var attempts: [RouteAttempt] = []
    /// The parsed answer, when the request asked for JSON.
    public var json: JSONValue?

    init(response: JSONValue, alias: String, deployment: ModelDeployment, parts: [(deployment: String, text: String)]) {
        self.alias = alias
        self.deployment = deployment.name
        model = response["model"]?.stringValue ?? deployment.model
        let answered = response["text"]?.stringValue ?? ""
        text = parts.map(\.text).joined() + answered
        toolCalls = response["tool_calls"]
        finishReason = response["finish_reason"]?.stringValue ?? "stop"
        inputTokens = response["usage"]?["input_tokens"]?.intValue ?? 0
        outputTokens = response["usage"]?["output_tokens"]?.intValue ?? 0
        self.parts = parts.isEmpty ? [] : parts + [(deployment.name, answered)]
    }

    /// An answer served from the cache: free, and marked.
    init(cached: JSONValue, alias: String) {
        self.alias = alias
        deployment = cached["deployment"]?.stringValue ?? ""
        model = cached["model"]?.stringValue ?? ""
        text = cached["text"]?.stringValue ?? ""
        toolCalls = cached["tool_calls"]
        finishReason = cached["finish_reason"]?.stringValue ?? "stop"
        inputTokens = 0
        outputTokens = 0
        json = cached["json"]
        cacheHit = true
    }

    /// What the cache keeps: the answer, not this request's accounting.
    var cacheable: JSONValue {
        var object: [String: JSONValue] = ["deployment": .string(deployment), "model": .string(model), "text": .string(text),
                                           "finish_reason": .string(finishReason)]
        if let toolCalls { object["tool_calls"] = toolCalls }
        if let json { object["json"] = json }
        return .object(object)
    }

    /// The output of a step, and of `trellis ai ask --json`.
    public var output: JSONValue {
        var object: [String: JSONValue] = [
            "text": .string(text), "finish_reason": .string(finishReason), "model": .string(model),
            "deployment": .string(deployment), "alias": .string(alias),
            "usage": ["input_tokens": .number(Double(inputTokens)), "output_tokens": .number(Double(outputTokens))],
            "cost": .number(cost), "latency_ms": .number((latencySeconds * 1000 * 10).rounded() / 10),
            "cache_hit": .bool(cacheHit),
        ]
        if let toolCalls { object["tool_calls"] = toolCalls }
        if let json { object["json"] = json }
        if let similarity { object["cache_similarity"] = .number((similarity * 10_000).rounded() / 10_000) }
        if !parts.isEmpty {
            object["parts"] = .array(parts.map { ["deployment": .string($0.deployment), "text": .string($0.text)] })
        }
        if !attempts.isEmpty { object["attempts"] = .array(attempts.map(\.json)) }
        return .object(object)
    }
}
