import TrellisSDK

/// Google's Gemini API: `models/{model}:generateContent` and
/// `:streamGenerateContent?alt=sse` (contents of parts, a
/// `systemInstruction`, `generationConfig`, function calling), with its
/// safety blocks read as content-policy refusals; `:batchEmbedContents`.
struct GeminiProvider: ProviderPlugin {
    struct Configuration: Decodable {
        var base_url: String?
        var model: String?
        var embedding_model: String?
        var models: [ModelInfo]?
    }

    static let id = "provider.gemini"
    static let version = "1.0.0"
    static let summary = "Google Gemini generateContent, streaming, function calling and embeddings."

    let configuration: Configuration
    let base: String
    let headers: [(name: String, value: String)]

    init(configuration: Configuration, host: TrellisHost) throws {
        self.configuration = configuration
        base = (configuration.base_url ?? "https://generativelanguage.googleapis.com/v1beta").trimmingSuffix("/")
        headers = [("x-goog-api-key", try host.secret("api_key"))]
    }

    static let service = "Gemini API"
    static let errorFields: CallContext.ErrorFields = { body in
        let error = body?["error"]
        let delay = error?["details"]?.arrayValue?.compactMap { $0["retryDelay"]?.string }.first
        return (error?["status"]?.string, delay.map { "retryDelay \($0)" },
                error?["message"]?.string.map { message in delay.map { "\(message) (retry in \($0))" } ?? message })
    }

    func modelPath(_ model: String) -> String {
        base + "/" + (model.hasPrefix("models/") ? model : "models/" + model)
    }

    func complete(_ request: CompletionRequest, context: CallContext, stream: TextStream?) throws -> CompletionResponse {
        let model = request.model.isEmpty ? (configuration.model ?? "") : request.model
        guard !model.isEmpty else { throw PluginError.config("no model: name one in the request or set `model` in the config") }
        let body = try requestBody(request)
        var assembly = Assembly(model: model)
        guard let stream else {
            let answer = try context.modelRequest(Self.service, url: modelPath(model) + ":generateContent", body: .object(body),
                                                  headers: headers, errorFields: Self.errorFields)
            _ = try assembly.take(answer, stream: nil)
            return try assembly.finish()
        }
        try context.modelStream(Self.service, url: modelPath(model) + ":streamGenerateContent?alt=sse", body: .object(body),
                                headers: headers, format: .serverSentEvents, errorFields: Self.errorFields) { event in
            let chunk: JSON
            do {
                chunk = try JSON(json: Array(event.data.utf8))
            } catch {
                throw PluginError.streamBroken("\(Self.service): a streamed event is not JSON (\(event.data.prefix(80)))",
                                               after: assembly.text)
            }
            return try assembly.take(chunk, stream: stream)
        }
        return try assembly.finish()
    }

    func requestBody(_ request: CompletionRequest) throws -> [String: JSON] {
        var contents: [JSON] = []
        // Gemini names a function response by the function, not by a call id.
        var callNames: [String: String] = [:]
        for message in request.messages where message.role != "system" {
            switch message.role {
            case "user":
                contents.append(["role": "user", "parts": [["text": .string(message.content)]]])
            case "assistant":
                var parts: [JSON] = message.content.isEmpty ? [] : [["text": .string(message.content)]]
                for call in message.toolCalls ?? [] {
                    callNames[call.id] = call.name
                    parts.append(["functionCall": ["name": .string(call.name), "args": call.arguments]])
                }
                contents.append(["role": "model", "parts": .array(parts)])
            case "tool":
                let name = message.toolCallID.flatMap { callNames[$0] } ?? message.toolCallID ?? "tool"
                let response = (try? JSON(json: Array(message.content.utf8))).flatMap { $0.objectValue == nil ? nil : $0 }
                    ?? ["result": .string(message.content)]
                contents.append(["role": "user", "parts": [["functionResponse": ["name": .string(name), "response": response]]]])
            default:
                throw PluginError.config("Gemini has no role '\(message.role)'")
            }
        }
        var body: [String: JSON] = ["contents": .array(contents)]
        if let system = request.systemText { body["systemInstruction"] = ["parts": [["text": .string(system)]]] }
        var generation: [String: JSON] = [:]
        if let limit = request.maxTokens { generation["maxOutputTokens"] = .number(Double(limit)) }
        if let temperature = request.temperature { generation["temperature"] = .number(temperature) }
        if let topP = request.topP { generation["topP"] = .number(topP) }
        if let stop = request.stop, !stop.isEmpty { generation["stopSequences"] = .array(stop.map(JSON.string)) }
        if let format = request.responseFormat, format.type != "text" {
            generation["responseMimeType"] = "application/json"
            if let schema = format.schema { generation["responseJsonSchema"] = schema }
        }
        if !generation.isEmpty { body["generationConfig"] = .object(generation) }
        if let tools = request.tools, !tools.isEmpty {
            body["tools"] = [["functionDeclarations": .array(tools.map { tool in
                var entry: [String: JSON] = ["name": .string(tool.name)]
                if let description = tool.description { entry["description"] = .string(description) }
                if let parameters = tool.parameters { entry["parameters"] = parameters }
                return .object(entry)
            })]]
        }
        if let choice = request.toolChoice {
            var config: [String: JSON] = [:]
            switch choice {
            case .string("auto"): config["mode"] = "AUTO"
            case .string("required"): config["mode"] = "ANY"
            case .string("none"): config["mode"] = "NONE"
            default:
                if let name = choice["name"]?.string {
                    config["mode"] = "ANY"
                    config["allowedFunctionNames"] = [.string(name)]
                }
            }
            if !config.isEmpty { body["toolConfig"] = ["functionCallingConfig": .object(config)] }
        }
        return body
    }

    /// One answer, or a stream of partial answers, put together.
    struct Assembly {
        var model: String
        var text = ""
        var finishReason: String?
        var usage = TokenUsage(inputTokens: 0, outputTokens: 0)
        var calls: [ToolCall] = []

        init(model: String) { self.model = model }

        mutating func take(_ chunk: JSON, stream: TextStream?) throws -> StreamStep {
            if let blocked = chunk["promptFeedback"]?["blockReason"]?.string {
                throw PluginError(.permanent, "\(service): the prompt was blocked (\(blocked))", reason: "content_policy")
            }
            if let error = chunk["error"] {
                throw ProviderFailure.streamError(service, type: error["status"]?.string, message: error["message"]?.string,
                                                  afterText: !text.isEmpty)
            }
            if let version = chunk["modelVersion"]?.string { model = version }
            if let metadata = chunk["usageMetadata"] {
                usage = TokenUsage(inputTokens: metadata["promptTokenCount"]?.intValue ?? usage.inputTokens,
                                   outputTokens: metadata["candidatesTokenCount"]?.intValue ?? usage.outputTokens)
            }
            guard let candidate = chunk["candidates"]?.arrayValue?.first else { return .more }
            for part in candidate["content"]?["parts"]?.arrayValue ?? [] {
                if let piece = part["text"]?.string, !piece.isEmpty, part["thought"]?.boolValue != true {
                    text += piece
                    if let stream { guard stream(piece) else { return .stop } }
                }
                if let call = part["functionCall"] {
                    let name = call["name"]?.string ?? ""
                    calls.append(ToolCall(id: call["id"]?.string ?? "call_\(calls.count + 1)_\(name)", name: name,
                                          arguments: call["args"] ?? [:]))
                }
            }
            if let reason = candidate["finishReason"]?.string { finishReason = reason }
            return .more
        }

        func finish() throws -> CompletionResponse {
            guard let finish = finishReason else {
                throw PluginError.streamBroken("\(service): the answer ended without a finishReason", after: text)
            }
            switch finish {
            case "SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION", "IMAGE_SAFETY":
                throw PluginError(.permanent, "\(service): the answer was blocked (\(finish))", reason: "content_policy")
            default:
                break
            }
            let reason = switch finish {
            case "STOP": calls.isEmpty ? "stop" : "tool_calls"
            case "MAX_TOKENS": "length"
            default: finish.lowercased()
            }
            return CompletionResponse(model: model, text: text, finishReason: reason, usage: usage,
                                      toolCalls: calls.isEmpty ? nil : calls)
        }
    }

    func models(context: CallContext) throws -> [ModelInfo] {
        if let models = configuration.models { return models }
        let answer = try context.modelRequest(Self.service, url: base + "/models", method: "GET", body: nil, headers: headers,
                                              errorFields: Self.errorFields)
        return (answer["models"]?.arrayValue ?? []).compactMap { model in
            model["name"]?.string.map { ModelInfo(id: $0.hasPrefix("models/") ? String($0.dropFirst(7)) : $0,
                                                  contextWindow: model["inputTokenLimit"]?.intValue) }
        }
    }

    func embed(_ request: EmbeddingRequest, context: CallContext) throws -> EmbeddingResponse {
        let model = request.model.isEmpty ? (configuration.embedding_model ?? "") : request.model
        guard !model.isEmpty else {
            throw PluginError.config("no embedding model: name one in the request or set `embedding_model` in the config")
        }
        let name = model.hasPrefix("models/") ? model : "models/" + model
        let answer = try context.modelRequest(
            Self.service, url: modelPath(model) + ":batchEmbedContents",
            body: ["requests": .array(request.input.map { ["model": .string(name), "content": ["parts": [["text": .string($0)]]]] })],
            headers: headers, errorFields: Self.errorFields)
        let vectors = (answer["embeddings"]?.arrayValue ?? []).map { ($0["values"]?.arrayValue ?? []).compactMap(\.doubleValue) }
        guard vectors.count == request.input.count, vectors.allSatisfy({ !$0.isEmpty }) else {
            throw PluginError(.retryable, "\(Self.service): \(vectors.count) embeddings came back for \(request.input.count) inputs")
        }
        return EmbeddingResponse(model: model, embeddings: vectors, usage: .init(inputTokens: 0))
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(GeminiProvider.self) }
