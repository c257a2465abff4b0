import TrellisSDK

/// A model provider that needs no network: it answers from a table of canned
/// replies, or echoes the last user message. The same request always gets
/// the same answer, which makes it the provider for demos and tests.
struct OfflineProvider: ProviderPlugin {
    struct Configuration: Decodable {
        /// The model name it answers as.
        var model: String?
        /// Exact prompt → answer pairs, checked before echoing.
        var replies: [String: String]?
        /// Put in front of an echoed prompt.
        var prefix: String?
    }

    static let id = "provider.offline"
    static let version = "1.0.0"
    static let summary = "Deterministic offline model: canned replies or an echo, no network."

    let model: String
    let replies: [String: String]
    let prefix: String

    init(configuration: Configuration, host: TrellisHost) throws {
        model = configuration.model ?? "offline-echo"
        replies = configuration.replies ?? [:]
        prefix = configuration.prefix ?? "echo: "
    }

    func complete(_ request: CompletionRequest, context: CallContext, stream: TextStream?) throws -> CompletionResponse {
        guard request.model.isEmpty || request.model == model else {
            throw PluginError.config("unknown model '\(request.model)': this provider serves '\(model)'")
        }
        guard let prompt = request.messages.last(where: { $0.role == "user" })?.content else {
            throw PluginError.config("the request has no message with role 'user'")
        }
        var words = (replies[prompt] ?? prefix + prompt).split(separator: " ", omittingEmptySubsequences: true)
        var finish = "stop"
        if let limit = request.maxTokens, words.count > limit {
            words = Array(words.prefix(max(limit, 0)))
            finish = "length"
        }
        if let stream {
            for (index, word) in words.enumerated() {
                try context.checkCancellation()
                guard stream(index == 0 ? String(word) : " " + word) else { break }
            }
        }
        let inputTokens = request.messages.reduce(0) { $0 + $1.content.split(separator: " ").count }
        return CompletionResponse(model: model, text: words.joined(separator: " "), finishReason: finish,
                                  usage: TokenUsage(inputTokens: inputTokens, outputTokens: words.count))
    }

    func models(context: CallContext) throws -> [ModelInfo] {
        [ModelInfo(id: model, contextWindow: 8192)]
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(OfflineProvider.self) }
