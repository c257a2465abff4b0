import TrellisSDK

/// Anthropic's Messages API: `x-api-key` and `anthropic-version` headers,
/// the system prompt at the top level, `max_tokens` always sent, content
/// blocks (text, tool_use, tool_result), and the streamed event types
/// (message_start, content_block_start/delta/stop, message_delta,
/// message_stop, ping, error — `overloaded_error` among them).
struct AnthropicProvider: ProviderPlugin {
    struct Configuration: Decodable {
        var base_url: String?
        var model: String?
        /// The `anthropic-version` header.
        var api_version: String?
        /// Sent when a request gives no max_tokens (the API requires one).
        var default_max_tokens: Int?
        var models: [ModelInfo]?
    }

    static let id = "provider.anthropic"
    static let version = "1.0.0"
    static let summary = "Anthropic Messages API, streaming and tool use."

    let configuration: Configuration
    let base: String
    let headers: [(name: String, value: String)]

    init(configuration: Configuration, host: TrellisHost) throws {
        self.configuration = configuration
        base = (configuration.base_url ?? "https://api.anthropic.com").trimmingSuffix("/")
        let key = try host.secret("api_key")
        headers = [("x-api-key", key), ("anthropic-version", configuration.api_version ?? "2023-06-01")]
    }

    static let service = "Anthropic API"
    static let errorFields: CallContext.ErrorFields = { body in
        (body?["error"]?["type"]?.string, nil, body?["error"]?["message"]?.string)
    }

    func complete(_ request: CompletionRequest, context: CallContext, stream: TextStream?) throws -> CompletionResponse {
        let model = request.model.isEmpty ? (configuration.model ?? "") : request.model
        guard !model.isEmpty else { throw PluginError.config("no model: name one in the request or set `model` in the config") }
        var body = try requestBody(request, model: model)
        guard let stream else {
            let answer = try context.modelRequest(Self.service, url: base + "/v1/messages", body: .object(body), headers: headers,
                                                  errorFields: Self.errorFields)
            return try Self.response(answer, model: model)
        }
        body["stream"] = true
        var assembly = StreamAssembly(model: model)
        try context.modelStream(Self.service, url: base + "/v1/messages", body: .object(body), headers: headers,
                                format: .serverSentEvents, errorFields: Self.errorFields) { event in
            try assembly.take(event, stream: stream)
        }
        return try assembly.finish()
    }

    func requestBody(_ request: CompletionRequest, model: String) throws -> [String: JSON] {
        var body: [String: JSON] = [
            "model": .string(model),
            "max_tokens": .number(Double(request.maxTokens ?? configuration.default_max_tokens ?? 1024)),
            "messages": .array(try Self.messages(request.messages)),
        ]
        var system = request.systemText ?? ""
        if let format = request.responseFormat, format.type != "text" {
            // The Messages API has no response_format: ask for JSON in the system prompt.
            let schema = format.schema.map { " matching this JSON Schema: " + $0.jsonString() } ?? ""
            system += (system.isEmpty ? "" : "\n\n") + "Answer with one JSON value\(schema), and nothing else."
        }
        if !system.isEmpty { body["system"] = .string(system) }
        if let temperature = request.temperature { body["temperature"] = .number(temperature) }
        if let topP = request.topP { body["top_p"] = .number(topP) }
        if let stop = request.stop, !stop.isEmpty { body["stop_sequences"] = .array(stop.map(JSON.string)) }
        if let tools = request.tools, !tools.isEmpty {
            body["tools"] = .array(tools.map { tool in
                var entry: [String: JSON] = ["name": .string(tool.name),
                                             "input_schema": tool.parameters ?? ["type": "object", "properties": [:]]]
                if let description = tool.description { entry["description"] = .string(description) }
                return .object(entry)
            })
        }
        if let choice = request.toolChoice {
            switch choice {
            case .string("auto"): body["tool_choice"] = ["type": "auto"]
            case .string("required"): body["tool_choice"] = ["type": "any"]
            case .string("none"): body["tool_choice"] = ["type": "none"]
            default:
                if let name = choice["name"]?.string { body["tool_choice"] = ["type": "tool", "name": .string(name)] }
            }
        }
        return body
    }

    /// The conversation without system messages; tool results become
    /// user turns of tool_result blocks, tool calls assistant tool_use blocks.
    static func messages(_ messages: [ChatMessage]) throws -> [JSON] {
        var out: [JSON] = []
        for message in messages where message.role != "system" {
            switch message.role {
            case "tool":
                guard let id = message.toolCallID else {
                    throw PluginError.config("a message with role 'tool' needs tool_call_id")
                }
                out.append(["role": "user", "content": [["type": "tool_result", "tool_use_id": .string(id),
                                                         "content": .string(message.content)]]])
            case "assistant" where !(message.toolCalls ?? []).isEmpty:
                var blocks: [JSON] = message.content.isEmpty ? [] : [["type": "text", "text": .string(message.content)]]
                for call in message.toolCalls ?? [] {
                    blocks.append(["type": "tool_use", "id": .string(call.id), "name": .string(call.name), "input": call.arguments])
                }
                out.append(["role": "assistant", "content": .array(blocks)])
            case "user", "assistant":
                out.append(["role": .string(message.role), "content": .string(message.content)])
            default:
                throw PluginError.config("the Messages API has no role '\(message.role)'")
            }
        }
        return out
    }

    static func finishReason(_ stopReason: String?) -> String {
        switch stopReason {
        case "end_turn"?, "stop_sequence"?, nil: "stop"
        case "max_tokens"?: "length"
        case "tool_use"?: "tool_calls"
        case "refusal"?: "content_filter"
        case let other?: other
        }
    }

    static func response(_ answer: JSON, model: String) throws -> CompletionResponse {
        guard let blocks = answer["content"]?.arrayValue else {
            throw PluginError(.retryable, "\(service): the answer has no content blocks")
        }
        if answer["stop_reason"]?.string == "refusal" {
            throw PluginError(.permanent, "\(service): the model refused to answer", reason: "content_policy")
        }
        var text = ""
        var calls: [ToolCall] = []
        for block in blocks {
            switch block["type"]?.string {
            case "text"?: text += block["text"]?.string ?? ""
            case "tool_use"?:
                calls.append(ToolCall(id: block["id"]?.string ?? "", name: block["name"]?.string ?? "", arguments: block["input"] ?? [:]))
            default: break
            }
        }
        let usage = answer["usage"]
        return CompletionResponse(
            model: answer["model"]?.string ?? model, text: text, finishReason: finishReason(answer["stop_reason"]?.string),
            usage: TokenUsage(inputTokens: usage?["input_tokens"]?.intValue ?? 0, outputTokens: usage?["output_tokens"]?.intValue ?? 0),
            toolCalls: calls.isEmpty ? nil : calls)
    }

    struct StreamAssembly {
        var model: String
        var text = ""
        var stopReason: String?
        var inputTokens = 0
        var outputTokens = 0
        var stopped = false
        /// tool_use blocks by index: id, name, the input's JSON text so far.
        var calls: [Int: (id: String, name: String, input: String)] = [:]

        init(model: String) { self.model = model }

        mutating func take(_ event: EventStreamDecoder.Event, stream: TextStream) throws -> StreamStep {
            let data: JSON
            do {
                data = try JSON(json: Array(event.data.utf8))
            } catch {
                throw PluginError.streamBroken("\(service): a streamed event is not JSON (\(event.data.prefix(80)))", after: text)
            }
            switch event.name.isEmpty ? (data["type"]?.string ?? "") : event.name {
            case "message_start":
                if let name = data["message"]?["model"]?.string { model = name }
                inputTokens = data["message"]?["usage"]?["input_tokens"]?.intValue ?? 0
                outputTokens = data["message"]?["usage"]?["output_tokens"]?.intValue ?? 0
            case "content_block_start":
                let block = data["content_block"]
                if block?["type"]?.string == "tool_use" {
                    calls[data["index"]?.intValue ?? 0] = (block?["id"]?.string ?? "", block?["name"]?.string ?? "", "")
                } else if let piece = block?["text"]?.string, !piece.isEmpty {
                    text += piece
                    guard stream(piece) else { return .stop }
                }
            case "content_block_delta":
                let delta = data["delta"]
                switch delta?["type"]?.string {
                case "text_delta"?:
                    let piece = delta?["text"]?.string ?? ""
                    text += piece
                    if !piece.isEmpty { guard stream(piece) else { return .stop } }
                case "input_json_delta"?:
                    let index = data["index"]?.intValue ?? 0
                    calls[index]?.input += delta?["partial_json"]?.string ?? ""
                default: break
                }
            case "message_delta":
                if let reason = data["delta"]?["stop_reason"]?.string { stopReason = reason }
                if let tokens = data["usage"]?["output_tokens"]?.intValue { outputTokens = tokens }
            case "message_stop":
                stopped = true
                return .finished
            case "error":
                throw ProviderFailure.streamError(service, type: data["error"]?["type"]?.string,
                                                  message: data["error"]?["message"]?.string, afterText: !text.isEmpty)
            default:
                break   // ping, content_block_stop, and types added later
            }
            return .more
        }

        func finish() throws -> CompletionResponse {
            guard stopped else {
                throw PluginError.streamBroken("\(service): the stream ended before message_stop", after: text)
            }
            if stopReason == "refusal" {
                throw PluginError(.permanent, "\(service): the model refused to answer", reason: "content_policy")
            }
            let toolCalls = try calls.sorted { $0.key < $1.key }.map { entry in
                let input: JSON
                do {
                    input = entry.value.input.isEmpty ? [:] : try JSON(json: Array(entry.value.input.utf8))
                } catch {
                    throw PluginError(.retryable, "\(service): a tool call's input is not JSON: \(entry.value.input.prefix(200))")
                }
                return ToolCall(id: entry.value.id, name: entry.value.name, arguments: input)
            }
            return CompletionResponse(model: model, text: text, finishReason: AnthropicProvider.finishReason(stopReason),
                                      usage: TokenUsage(inputTokens: inputTokens, outputTokens: outputTokens),
                                      toolCalls: toolCalls.isEmpty ? nil : toolCalls)
        }
    }

    func models(context: CallContext) throws -> [ModelInfo] {
        if let models = configuration.models { return models }
        let answer = try context.modelRequest(Self.service, url: base + "/v1/models", method: "GET", body: nil, headers: headers,
                                              errorFields: Self.errorFields)
        return (answer["data"]?.arrayValue ?? []).compactMap { $0["id"]?.string.map { ModelInfo(id: $0) } }
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(AnthropicProvider.self) }
