import TrellisSDK

/// Keeps tokens of at least three bytes.
struct ShortWordFilter: AnalyzerPlugin {
    struct Configuration: Decodable {}
    static let id = "analyzer.short-words"
    static let version = "1.0.0"
    static let summary = "Drops tokens shorter than three bytes."
    static let isTokenFilter = true

    init(configuration: Configuration, host: TrellisHost) throws {}

    func tokenize(_ text: UnsafeBufferPointer<UInt8>, into sink: inout TokenSink) throws {
        throw PluginError.config("analyzer.short-words is a filter: put it after a tokenizer")
    }

    func filter(_ tokens: InputTokens, text: UnsafeBufferPointer<UInt8>, into sink: inout TokenSink) throws {
        for token in tokens where token.term.count >= 3 {
            guard sink.emit(token) else { return }
        }
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(ShortWordFilter.self) }
