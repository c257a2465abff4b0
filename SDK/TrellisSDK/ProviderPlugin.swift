import TrellisJSON

/// A plugin that answers AI model requests (`trellis.provider/1`).
public protocol ProviderPlugin: TrellisPlugin {
    /// Completes a request. When `stream` is not nil, pass text pieces to it
    /// as they arrive and stop when it returns false; still return the full
    /// response at the end. A failure after text was streamed should carry
    /// the reason `stream_broken` (see ``PluginError/streamBroken(_:after:)``).
    func complete(_ request: CompletionRequest, context: CallContext, stream: TextStream?) throws -> CompletionResponse

    /// The models this provider serves.
    func models(context: CallContext) throws -> [ModelInfo]

    /// Embeds texts (ABI 1.3). The default says the provider has no
    /// embedding models.
    func embed(_ request: EmbeddingRequest, context: CallContext) throws -> EmbeddingResponse
}

extension ProviderPlugin {
    public func embed(_ request: EmbeddingRequest, context: CallContext) throws -> EmbeddingResponse {
        throw PluginError(.config, "\(Self.id) has no embedding models", reason: "unsupported")
    }
}

/// A tool call the model asked for, or one an earlier assistant message made.
public struct ToolCall: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    /// The arguments, as JSON (an object when the model follows the tool's schema).
    public var arguments: JSON

    public init(id: String, name: String, arguments: JSON) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}

public struct ChatMessage: Codable, Sendable, Equatable {
    /// `system`, `user`, `assistant` or `tool`.
    public var role: String
    public var content: String
    /// An assistant message's tool calls.
    public var toolCalls: [ToolCall]?
    /// A `tool` message answers this call.
    public var toolCallID: String?

    enum CodingKeys: String, CodingKey {
        case role, content
        case toolCalls = "tool_calls"
        case toolCallID = "tool_call_id"
    }

    public init(role: String, content: String, toolCalls: [ToolCall]? = nil, toolCallID: String? = nil) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        role = try container.decode(String.self, forKey: .role)
        content = try container.decodeIfPresent(String.self, forKey: .content) ?? ""
        toolCalls = try container.decodeIfPresent([ToolCall].self, forKey: .toolCalls)
        toolCallID = try container.decodeIfPresent(String.self, forKey: .toolCallID)
    }
}

/// A function the model may call.
public struct ToolDefinition: Codable, Sendable, Equatable {
    public var name: String
    public var description: String?
    /// A JSON Schema of its arguments.
    public var parameters: JSON?

    public init(name: String, description: String? = nil, parameters: JSON? = nil) {
        self.name = name
        self.description = description
        self.parameters = parameters
    }
}

/// What the answer must look like (`response_format`).
public struct ResponseFormat: Codable, Sendable, Equatable {
    /// `text`, `json_object` or `json_schema`.
    public var type: String
    public var name: String?
    public var schema: JSON?

    public init(type: String, name: String? = nil, schema: JSON? = nil) {
        self.type = type
        self.name = name
        self.schema = schema
    }
}

public struct CompletionRequest: Codable, Sendable, Equatable {
    public var model: String
    public var messages: [ChatMessage]
    public var maxTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var stop: [String]?
    public var tools: [ToolDefinition]?
    /// `auto`, `none`, `required`, or `{"name": …}` for one tool.
    public var toolChoice: JSON?
    public var responseFormat: ResponseFormat?

    enum CodingKeys: String, CodingKey {
        case model, messages, temperature, stop, tools
        case maxTokens = "max_tokens"
        case topP = "top_p"
        case toolChoice = "tool_choice"
        case responseFormat = "response_format"
    }

    /// `model` may be left out: the provider then answers with its default model.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decodeIfPresent(String.self, forKey: .model) ?? ""
        messages = try container.decode([ChatMessage].self, forKey: .messages)
        maxTokens = try container.decodeIfPresent(Int.self, forKey: .maxTokens)
        temperature = try container.decodeIfPresent(Double.self, forKey: .temperature)
        topP = try container.decodeIfPresent(Double.self, forKey: .topP)
        stop = try container.decodeIfPresent([String].self, forKey: .stop)
        tools = try container.decodeIfPresent([ToolDefinition].self, forKey: .tools)
        toolChoice = try container.decodeIfPresent(JSON.self, forKey: .toolChoice)
        responseFormat = try container.decodeIfPresent(ResponseFormat.self, forKey: .responseFormat)
    }

    public init(model: String, messages: [ChatMessage], maxTokens: Int? = nil, temperature: Double? = nil,
                topP: Double? = nil, stop: [String]? = nil, tools: [ToolDefinition]? = nil, toolChoice: JSON? = nil,
                responseFormat: ResponseFormat? = nil) {
        self.model = model
        self.messages = messages
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topP = topP
        self.stop = stop
        self.tools = tools
        self.toolChoice = toolChoice
        self.responseFormat = responseFormat
    }

    /// The `system` messages' text, joined (for APIs that take it apart).
    public var systemText: String? {
        let parts = messages.filter { $0.role == "system" }.map(\.content)
        return parts.isEmpty ? nil : parts.joined(separator: "\n\n")
    }
}

public struct TokenUsage: Codable, Sendable, Equatable {
    public var inputTokens: Int
    public var outputTokens: Int

    enum CodingKeys: String, CodingKey {
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
    }

    public init(inputTokens: Int, outputTokens: Int) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
    }
}

public struct CompletionResponse: Codable, Sendable, Equatable {
    public var model: String
    public var text: String
    /// `stop`, `length`, `tool_calls`, `content_filter`, or the provider's own reason.
    public var finishReason: String
    public var usage: TokenUsage
    public var toolCalls: [ToolCall]?

    enum CodingKeys: String, CodingKey {
        case model, text, usage
        case finishReason = "finish_reason"
        case toolCalls = "tool_calls"
    }

    public init(model: String, text: String, finishReason: String, usage: TokenUsage, toolCalls: [ToolCall]? = nil) {
        self.model = model
        self.text = text
        self.finishReason = finishReason
        self.usage = usage
        self.toolCalls = toolCalls
    }
}

public struct ModelInfo: Codable, Sendable, Equatable {
    public var id: String
    public var contextWindow: Int?

    enum CodingKeys: String, CodingKey {
        case id
        case contextWindow = "context_window"
    }

    public init(id: String, contextWindow: Int? = nil) {
        self.id = id
        self.contextWindow = contextWindow
    }
}

public struct EmbeddingRequest: Codable, Sendable, Equatable {
    public var model: String
    public var input: [String]

    public init(model: String, input: [String]) {
        self.model = model
        self.input = input
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decodeIfPresent(String.self, forKey: .model) ?? ""
        input = try container.decode([String].self, forKey: .input)
    }
}

public struct EmbeddingResponse: Codable, Sendable, Equatable {
    public struct Usage: Codable, Sendable, Equatable {
        public var inputTokens: Int
        enum CodingKeys: String, CodingKey { case inputTokens = "input_tokens" }
        public init(inputTokens: Int) { self.inputTokens = inputTokens }
    }

    public var model: String
    /// One vector per input, in order.
    public var embeddings: [[Double]]
    public var usage: Usage

    public init(model: String, embeddings: [[Double]], usage: Usage) {
        self.model = model
        self.embeddings = embeddings
        self.usage = usage
    }
}

/// Where a provider sends streamed text. Valid only during the call.
public struct TextStream {
    let send: (String) -> Bool

    public init(_ send: @escaping (String) -> Bool) { self.send = send }

    /// Sends one piece of text; returns false when the host asks to stop.
    @discardableResult
    public func callAsFunction(_ text: String) -> Bool { send(text) }
}
