import TrellisSDK

/// Chat Completions on any OpenAI-compatible base URL: OpenAI itself,
/// Azure-style deployments (an `api-key` header and an `api-version`
/// query), vLLM, llama.cpp's server, OpenRouter. Streams with server-sent
/// `chat.completion.chunk` events up to `[DONE]`, asking for usage in the
/// last one; embeds through `/embeddings`.
struct OpenAIProvider: ProviderPlugin {
    struct Configuration: Decodable {
        var base_url: String?
        /// The model when a request names none.
        var model: String?
        var embedding_model: String?
        /// `bearer` (Authorization: Bearer, the default) or `api-key` (Azure).
        var auth: String?
        /// Query parameters on every request (Azure's `api-version`).
        var query: [String: String]?
        var organization: String?
        /// `max_tokens` (default) or `max_completion_tokens` (newer OpenAI models).
        var max_tokens_field: String?
        /// The models list_models reports; when absent it asks `GET /models`.
        var models: [ModelInfo]?
    }

    static let id = "provider.openai"
    static let version = "1.0.0"
    static let summary = "OpenAI-compatible Chat Completions (OpenAI, Azure, vLLM, llama.cpp, OpenRouter) and embeddings."

    let configuration: Configuration
    let base: String
    let headers: [(name: String, value: String)]

    init(configuration: Configuration, host: TrellisHost) throws {
        self.configuration = configuration
        base = (configuration.base_url ?? "https://api.openai.com/v1").trimmingSuffix("/")
        var headers: [(name: String, value: String)] = []
        // A local server (vLLM, llama.cpp) may need no key.
        if let key = try? host.secret("api_key"), !key.isEmpty {
            switch configuration.auth ?? "bearer" {
            case "bearer": headers.append(("Authorization", "Bearer \(key)"))
            case "api-key": headers.append(("api-key", key))
            case let other: throw PluginError.config("auth must be bearer or api-key, not '\(other)'")
            }
        }
        if let organization = configuration.organization { headers.append(("OpenAI-Organization", organization)) }
        self.headers = headers
        if let field = configuration.max_tokens_field, field != "max_tokens", field != "max_completion_tokens" {
            throw PluginError.config("max_tokens_field must be max_tokens or max_completion_tokens, not '\(field)'")
        }
    }

    func url(_ path: String) -> String {
        let query = (configuration.query ?? [:]).sorted { $0.key < $1.key }
            .map { "\($0.key.percentEncodedForQuery)=\($0.value.percentEncodedForQuery)" }.joined(separator: "&")
        return base + path + (query.isEmpty ? "" : "?" + query)
    }

    static let errorFields: CallContext.ErrorFields = { body in
        let error = body?["error"]
        // Some compatible servers answer {"error": "text"} or {"detail": "..."}.
        return (error?["type"]?.string, error?["code"]?.string ?? error?["code"]?.doubleValue.map { String(Int($0)) },
                error?["message"]?.string ?? error?.string ?? body?["detail"]?.string ?? body?["message"]?.string)
    }

    func complete(_ request: CompletionRequest, context: CallContext, stream: TextStream?) throws -> CompletionResponse {
        let model = request.model.isEmpty ? (configuration.model ?? "") : request.model
        guard !model.isEmpty else { throw PluginError.config("no model: name one in the request or set `model` in the config") }
        var body = requestBody(request, model: model)
        guard let stream else {
            let answer = try context.modelRequest("OpenAI-compatible API", url: url("/chat/completions"), body: .object(body),
                                                  headers: headers, errorFields: Self.errorFields)
            return try Self.response(answer, model: model)
        }
        body["stream"] = true
        body["stream_options"] = ["include_usage": true]
        var assembly = StreamAssembly(model: model)
        try context.modelStream("OpenAI-compatible API", url: url("/chat/completions"), body: .object(body), headers: headers,
                                format: .serverSentEvents, errorFields: Self.errorFields) { event in
            try assembly.take(event, stream: stream)
        }
        return try assembly.finish()
    }

    func requestBody(_ request: CompletionRequest, model: String) -> [String: JSON] {
        var body: [String: JSON] = ["model": .string(model), "messages": .array(request.messages.map(Self.message))]
        if let limit = request.maxTokens { body[configuration.max_tokens_field ?? "max_tokens"] = .number(Double(limit)) }
        if let temperature = request.temperature { body["temperature"] = .number(temperature) }
        if let topP = request.topP { body["top_p"] = .number(topP) }
        if let stop = request.stop, !stop.isEmpty { body["stop"] = .array(stop.map(JSON.string)) }
        if let tools = request.tools, !tools.isEmpty {
            body["tools"] = .array(tools.map { tool in
                var function: [String: JSON] = ["name": .string(tool.name)]
                if let description = tool.description { function["description"] = .string(description) }
                function["parameters"] = tool.parameters ?? ["type": "object", "properties": [:]]
                return ["type": "function", "function": .object(function)]
            })
        }
        if let choice = request.toolChoice {
            if let name = choice["name"]?.string {
                body["tool_choice"] = ["type": "function", "function": ["name": .string(name)]]
            } else {
                body["tool_choice"] = choice
            }
        }
        if let format = request.responseFormat {
            switch format.type {
            case "json_schema":
                body["response_format"] = ["type": "json_schema", "json_schema": [
                    "name": .string(format.name ?? "answer"), "schema": format.schema ?? ["type": "object"], "strict": true]]
            case "json_object": body["response_format"] = ["type": "json_object"]
            default: break
            }
        }
        return body
    }

    static func message(_ message: ChatMessage) -> JSON {
        var object: [String: JSON] = ["role": .string(message.role), "content": .string(message.content)]
        if let calls = message.toolCalls, !calls.isEmpty {
            object["tool_calls"] = .array(calls.map { call in
                ["id": .string(call.id), "type": "function",
                 "function": ["name": .string(call.name), "arguments": .string(call.arguments.jsonString())]]
            })
            if message.content.isEmpty { object["content"] = .null }
        }
        if let id = message.toolCallID { object["tool_call_id"] = .string(id) }
        return .object(object)
    }

    static func response(_ answer: JSON, model: String) throws -> CompletionResponse {
        guard let choice = answer["choices"]?.arrayValue?.first, let message = choice["message"] else {
            throw PluginError(.retryable, "OpenAI-compatible API: the answer has no choices[0].message")
        }
        if let refusal = message["refusal"]?.string, !refusal.isEmpty {
            throw PluginError(.permanent, "OpenAI-compatible API: the model refused: \(refusal)", reason: "content_policy")
        }
        let finish = choice["finish_reason"]?.string ?? "stop"
        if finish == "content_filter", (message["content"]?.string ?? "").isEmpty {
            throw PluginError(.permanent, "OpenAI-compatible API: the answer was withheld by the content filter",
                              reason: "content_policy")
        }
        let calls = try (message["tool_calls"]?.arrayValue ?? []).map { call in
            try ToolCall(id: call["id"]?.string ?? "", name: call["function"]?["name"]?.string ?? "",
                         arguments: arguments(call["function"]?["arguments"]?.string ?? "{}"))
        }
        return CompletionResponse(
            model: answer["model"]?.string ?? model, text: message["content"]?.string ?? "", finishReason: finish,
            usage: usage(answer["usage"]), toolCalls: calls.isEmpty ? nil : calls)
    }

    static func usage(_ usage: JSON?) -> TokenUsage {
        TokenUsage(inputTokens: usage?["prompt_tokens"]?.intValue ?? 0, outputTokens: usage?["completion_tokens"]?.intValue ?? 0)
    }

    /// A tool call's arguments, which the API sends as JSON text.
    static func arguments(_ text: String) throws -> JSON {
        guard !text.isEmpty else { return [:] }
        do {
            return try JSON(json: Array(text.utf8))
        } catch {
            throw PluginError(.retryable, "OpenAI-compatible API: a tool call's arguments are not JSON: \(text.prefix(200))")
        }
    }

    /// A streamed answer put together from its chunks.
    struct StreamAssembly {
        var model: String
        var text = ""
        var finishReason: String?
        var usage: TokenUsage?
        var done = false
        /// Tool calls by their index in the stream: id, name, argument text.
        var calls: [Int: (id: String, name: String, arguments: String)] = [:]

        init(model: String) { self.model = model }

        mutating func take(_ event: EventStreamDecoder.Event, stream: TextStream) throws -> StreamStep {
            if event.data == "[DONE]" {
                done = true
                return .finished
            }
            let chunk: JSON
            do {
                chunk = try JSON(json: Array(event.data.utf8))
            } catch {
                throw PluginError.streamBroken("OpenAI-compatible API: a streamed event is not JSON (\(event.data.prefix(80)))",
                                               after: text)
            }
            if let error = chunk["error"] {
                throw ProviderFailure.streamError("OpenAI-compatible API", type: error["type"]?.string ?? error["code"]?.string,
                                                  message: error["message"]?.string ?? error.string, afterText: !text.isEmpty)
            }
            if let name = chunk["model"]?.string { model = name }
            if let used = chunk["usage"], used != .null { usage = OpenAIProvider.usage(used) }
            for choice in chunk["choices"]?.arrayValue ?? [] {
                let delta = choice["delta"]
                if let piece = delta?["content"]?.string, !piece.isEmpty {
                    text += piece
                    guard stream(piece) else { return .stop }
                }
                for call in delta?["tool_calls"]?.arrayValue ?? [] {
                    let index = call["index"]?.intValue ?? 0
                    var entry = calls[index] ?? ("", "", "")
                    if let id = call["id"]?.string { entry.id = id }
                    if let name = call["function"]?["name"]?.string { entry.name += name }
                    if let part = call["function"]?["arguments"]?.string { entry.arguments += part }
                    calls[index] = entry
                }
                if let reason = choice["finish_reason"]?.string { finishReason = reason }
            }
            return .more
        }

        func finish() throws -> CompletionResponse {
            guard done || finishReason != nil else {
                throw PluginError.streamBroken("OpenAI-compatible API: the stream ended before [DONE] or a finish reason", after: text)
            }
            if finishReason == "content_filter", text.isEmpty {
                throw PluginError(.permanent, "OpenAI-compatible API: the answer was withheld by the content filter",
                                  reason: "content_policy")
            }
            let toolCalls = try calls.sorted { $0.key < $1.key }.map {
                ToolCall(id: $0.value.id, name: $0.value.name, arguments: try OpenAIProvider.arguments($0.value.arguments))
            }
            return CompletionResponse(model: model, text: text, finishReason: finishReason ?? "stop",
                                      usage: usage ?? TokenUsage(inputTokens: 0, outputTokens: 0),
                                      toolCalls: toolCalls.isEmpty ? nil : toolCalls)
        }
    }

    func models(context: CallContext) throws -> [ModelInfo] {
        if let models = configuration.models { return models }
        let answer = try context.modelRequest("OpenAI-compatible API", url: url("/models"), method: "GET", body: nil,
                                              headers: headers, errorFields: Self.errorFields)
        return (answer["data"]?.arrayValue ?? []).compactMap { $0["id"]?.string.map { ModelInfo(id: $0) } }
    }

    func embed(_ request: EmbeddingRequest, context: CallContext) throws -> EmbeddingResponse {
        let model = request.model.isEmpty ? (configuration.embedding_model ?? "") : request.model
        guard !model.isEmpty else {
            throw PluginError.config("no embedding model: name one in the request or set `embedding_model` in the config")
        }
        let answer = try context.modelRequest(
            "OpenAI-compatible API", url: url("/embeddings"),
            body: ["model": .string(model), "input": .array(request.input.map(JSON.string))],
            headers: headers, errorFields: Self.errorFields)
        let rows = (answer["data"]?.arrayValue ?? []).sorted { ($0["index"]?.intValue ?? 0) < ($1["index"]?.intValue ?? 0) }
        let vectors = rows.map { ($0["embedding"]?.arrayValue ?? []).compactMap(\.doubleValue) }
        guard vectors.count == request.input.count, vectors.allSatisfy({ !$0.isEmpty }) else {
            throw PluginError(.retryable, "OpenAI-compatible API: \(vectors.count) embeddings came back for \(request.input.count) inputs")
        }
        return EmbeddingResponse(model: answer["model"]?.string ?? model, embeddings: vectors,
                                 usage: .init(inputTokens: answer["usage"]?["prompt_tokens"]?.intValue ?? 0))
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(OpenAIProvider.self) }
