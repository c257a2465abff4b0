/// A plugin that answers AI model requests (`trellis.provider/1`).
public protocol ProviderPlugin: TrellisPlugin {
    /// Completes a request. When `stream` is not nil, pass text pieces to it
    /// as they arrive and stop when it returns false; still return the full
    /// response at the end.
    func complete(_ request: CompletionRequest, context: CallContext, stream: TextStream?) throws -> CompletionResponse

    /// The models this provider serves.
    func models(context: CallContext) throws -> [ModelInfo]
}

public struct ChatMessage: Codable, Sendable, Equatable {
    public var role: String
    public var content: String
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

public struct CompletionRequest: Codable, Sendable, Equatable {
    public var model: String
    public var messages: [ChatMessage]
    public var maxTokens: Int?
    public var temperature: Double?

    enum CodingKeys: String, CodingKey {
        case model, messages, temperature
        case maxTokens = "max_tokens"
    }

    /// `model` may be left out: the provider then answers with its default model.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decodeIfPresent(String.self, forKey: .model) ?? ""
        messages = try container.decode([ChatMessage].self, forKey: .messages)
        maxTokens = try container.decodeIfPresent(Int.self, forKey: .maxTokens)
        temperature = try container.decodeIfPresent(Double.self, forKey: .temperature)
    }

    public init(model: String, messages: [ChatMessage], maxTokens: Int? = nil, temperature: Double? = nil) {
        self.model = model
        self.messages = messages
        self.maxTokens = maxTokens
        self.temperature = temperature
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
    /// `stop`, `length`, or the provider's own reason.
    public var finishReason: String
    public var usage: TokenUsage

    enum CodingKeys: String, CodingKey {
        case model, text, usage
        case finishReason = "finish_reason"
    }

    public init(model: String, text: String, finishReason: String, usage: TokenUsage) {
        self.model = model
        self.text = text
        self.finishReason = finishReason
        self.usage = usage
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

/// Where a provider sends streamed text. Valid only during the call.
public struct TextStream {
    let send: (String) -> Bool

    /// Sends one piece of text; returns false when the host asks to stop.
    @discardableResult
    public func callAsFunction(_ text: String) -> Bool { send(text) }
}
