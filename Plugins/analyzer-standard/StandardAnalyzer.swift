import TrellisSDK
import TrellisTextAnalysis

/// Words by the Unicode word boundary rules (UAX #29), case folded, without
/// the configured stop words. As a filter (after another tokenizer), it
/// folds each token and drops stop words.
struct StandardAnalyzer: AnalyzerPlugin {
    struct Configuration: Decodable {
        var stopWords: StopWordsSetting?
        var maxTokenLength: Int?

        enum CodingKeys: String, CodingKey {
            case stopWords = "stop_words"
            case maxTokenLength = "max_token_length"
        }
    }

    static let id = "analyzer.standard"
    static let version = "1.0.0"
    static let summary = "Unicode words (UAX #29), case folded, with optional stop words."
    static let isTokenFilter = true

    let tokenizer: WordTokenizer

    init(configuration: Configuration, host: TrellisHost) throws {
        tokenizer = WordTokenizer(maximumLength: configuration.maxTokenLength ?? 255,
                                  stopWords: StopWords.named(configuration.stopWords, default: []))
    }

    func tokenize(_ text: UnsafeBufferPointer<UInt8>, into sink: inout TokenSink) throws {
        var emitter = ScalarEmitter()
        tokenizer.words(of: text) { word in emitter.emit(word.scalars, position: word.position, bytes: word.bytes, into: &sink) }
    }

    func filter(_ tokens: InputTokens, text: UnsafeBufferPointer<UInt8>, into sink: inout TokenSink) throws {
        var emitter = ScalarEmitter()
        for token in tokens {
            var folded: [UInt32] = []
            for scalar in String(decoding: token.term, as: UTF8.self).unicodeScalars { CaseFolding.fold(scalar.value, into: &folded) }
            if folded.count > tokenizer.maximumLength { folded.removeLast(folded.count - tokenizer.maximumLength) }
            if tokenizer.stopWords.contains(String(scalars: folded)) { continue }
            guard emitter.emit(folded, position: token.position, bytes: token.bytes, into: &sink) else { return }
        }
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(StandardAnalyzer.self) }
