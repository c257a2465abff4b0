import TrellisSDK

/// A local Ollama server: `/api/chat` (newline-delimited JSON when
/// streaming, a last line with `done: true` and the token counts) and
/// `/api/embed`. No key: Ollama listens on this machine.
struct OllamaProvider: ProviderPlugin {
    struct Configuration: Decodable {
        var base_url: String?
        var model: String?
        var embedding_model: String?
        /// How long Ollama keeps the model loaded after a request ("5m").
        var keep_alive: String?
        var models: [ModelInfo]?
    }

    static let id = "provider.ollama"
    static let version = "1.0.0"
    static let summary = "A local Ollama server: chat (NDJSON streaming), tools and embeddings."

    let configuration: Configuration
    let base: String

    init(configuration: Configuration, host: TrellisHost) throws {
        self.configuration = configuration
        base = (configuration.base_url ?? "http://127.0.0.1:11434").trimmingSuffix("/")
    }

    static let service = "Ollama"
    static let errorFields: CallContext.ErrorFields = { body in (nil, nil, body?["error"]?.string) }

    func complete(_ request: CompletionRequest, context: CallContext, stream: TextStream?) throws -> CompletionResponse {
        let model = request.model.isEmpty ? (configuration.model ?? "") : request.model
        guard !model.isEmpty else { throw PluginError.config("no model: name one in the request or set `model` in the config") }
        var body = requestBody(request, model: model)
        var assembly = Assembly(model: model)
        guard let stream else {
            body["stream"] = false
            let answer = try context.modelRequest(Self.service, url: base + "/api/chat", body: .object(body), headers: [],
                                                  errorFields: Self.errorFields)
            _ = try assembly.take(answer, stream: nil)
            return try assembly.finish()
        }
        body["stream"] = true
        try context.modelStream(Self.service, url: base + "/api/chat", body: .object(body), headers: [], format: .lines,
                                errorFields: Self.errorFields) { line in
            let chunk: JSON
            do {
                chunk = try JSON(json: Array(line.data.utf8))
            } catch {
                throw PluginError.streamBroken("\(Self.service): a streamed line is not JSON (\(line.data.prefix(80)))",
                                               after: assembly.text)
            }
            return try assembly.take(chunk, stream: stream)
        }
        return try assembly.finish()
    }

    func requestBody(_ request: CompletionRequest, model: String) -> [String: JSON] {
        let messages: [JSON] = request.messages.map { message in
            var object: [String: JSON] = ["role": .string(message.role), "content": .string(message.content)]
            if let calls = message.toolCalls, !calls.isEmpty {
                object["tool_calls"] = .array(calls.map { ["function": ["name": .string($0.name), "arguments": $0.arguments]] })
            }
            return .object(object)
        }
        var body: [String: JSON] = ["model": .string(model), "messages": .array(messages)]
        var options: [String: JSON] = [:]
        if let limit = request.maxTokens { options["num_predict"] = .number(Double(limit)) }
        if let temperature = request.temperature { options["temperature"] = .number(temperature) }
        if let topP = request.topP { options["top_p"] = .number(topP) }
        if let stop = request.stop, !stop.isEmpty { options["stop"] = .array(stop.map(JSON.string)) }
        if !options.isEmpty { body["options"] = .object(options) }
        if let format = request.responseFormat, format.type != "text" { body["format"] = format.schema ?? "json" }
        if let tools = request.tools, !tools.isEmpty {
            body["tools"] = .array(tools.map { tool in
                var function: [String: JSON] = ["name": .string(tool.name),
                                                "parameters": tool.parameters ?? ["type": "object", "properties": [:]]]
                if let description = tool.description { function["description"] = .string(description) }
                return ["type": "function", "function": .object(function)]
            })
        }
        if let keepAlive = configuration.keep_alive { body["keep_alive"] = .string(keepAlive) }
        return body
    }

    struct Assembly {
        var model: String
        var text = ""
        var done = false
        var finishReason = "stop"
        var usage = TokenUsage(inputTokens: 0, outputTokens: 0)
        var calls: [ToolCall] = []

        init(model: String) { self.model = model }

        mutating func take(_ chunk: JSON, stream: TextStream?) throws -> StreamStep {
            if let error = chunk["error"]?.string {
                throw ProviderFailure.streamError(service, type: nil, message: error, afterText: !text.isEmpty)
            }
            if let name = chunk["model"]?.string { model = name }
            if let piece = chunk["message"]?["content"]?.string, !piece.isEmpty {
                text += piece
                if let stream { guard stream(piece) else { return .stop } }
            }
            for call in chunk["message"]?["tool_calls"]?.arrayValue ?? [] {
                let name = call["function"]?["name"]?.string ?? ""
                calls.append(ToolCall(id: call["id"]?.string ?? "call_\(calls.count + 1)_\(name)", name: name,
                                      arguments: call["function"]?["arguments"] ?? [:]))
            }
            if chunk["done"]?.boolValue == true {
                done = true
                finishReason = switch chunk["done_reason"]?.string {
                case "length"?: "length"
                case nil, "stop"?: calls.isEmpty ? "stop" : "tool_calls"
                case let other?: other
                }
                usage = TokenUsage(inputTokens: chunk["prompt_eval_count"]?.intValue ?? 0,
                                   outputTokens: chunk["eval_count"]?.intValue ?? 0)
                return .finished
            }
            return .more
        }

        func finish() throws -> CompletionResponse {
            guard done else { throw PluginError.streamBroken("\(service): the answer ended before its done line", after: text) }
            return CompletionResponse(model: model, text: text, finishReason: finishReason, usage: usage,
                                      toolCalls: calls.isEmpty ? nil : calls)
        }
    }

    func models(context: CallContext) throws -> [ModelInfo] {
        if let models = configuration.models { return models }
        let answer = try context.modelRequest(Self.service, url: base + "/api/tags", method: "GET", body: nil, headers: [],
                                              errorFields: Self.errorFields)
        return (answer["models"]?.arrayValue ?? []).compactMap { $0["name"]?.string.map { ModelInfo(id: $0) } }
    }

    func embed(_ request: EmbeddingRequest, context: CallContext) throws -> EmbeddingResponse {
        let model = request.model.isEmpty ? (configuration.embedding_model ?? configuration.model ?? "") : request.model
        guard !model.isEmpty else {
            throw PluginError.config("no embedding model: name one in the request or set `embedding_model` in the config")
        }
        let answer = try context.modelRequest(
            Self.service, url: base + "/api/embed", body: ["model": .string(model), "input": .array(request.input.map(JSON.string))],
            headers: [], errorFields: Self.errorFields)
        let vectors = (answer["embeddings"]?.arrayValue ?? []).map { ($0.arrayValue ?? []).compactMap(\.doubleValue) }
        guard vectors.count == request.input.count, vectors.allSatisfy({ !$0.isEmpty }) else {
            throw PluginError(.retryable, "\(Self.service): \(vectors.count) embeddings came back for \(request.input.count) inputs")
        }
        return EmbeddingResponse(model: answer["model"]?.string ?? model, embeddings: vectors,
                                 usage: .init(inputTokens: answer["prompt_eval_count"]?.intValue ?? 0))
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(OllamaProvider.self) }
