import TrellisSDK
import TrellisTextAnalysis

/// English text: the standard words (UAX #29, case folded), the English
/// stop words unless configured otherwise, possessives removed ("Trellis's"
/// → "trellis") and each word stemmed by the Snowball English stemmer
/// ("connections" → "connect"). As a filter, it stems the tokens it gets.
struct EnglishAnalyzer: AnalyzerPlugin {
    struct Configuration: Decodable {
        var stopWords: StopWordsSetting?
        var maxTokenLength: Int?
        var stem: Bool?

        enum CodingKeys: String, CodingKey {
            case stopWords = "stop_words"
            case maxTokenLength = "max_token_length"
            case stem
        }
    }

    static let id = "analyzer.english"
    static let version = "1.0.0"
    static let summary = "English words: Unicode words, stop words, possessives removed, Snowball English stems."
    static let isTokenFilter = true

    let tokenizer: WordTokenizer
    let stems: Bool

    init(configuration: Configuration, host: TrellisHost) throws {
        tokenizer = WordTokenizer(maximumLength: configuration.maxTokenLength ?? 255,
                                  stopWords: StopWords.named(configuration.stopWords, default: StopWords.english))
        stems = configuration.stem ?? true
    }

    func tokenize(_ text: UnsafeBufferPointer<UInt8>, into sink: inout TokenSink) throws {
        var emitter = ScalarEmitter()
        tokenizer.words(of: text) { word in
            emitter.emit(english(word.scalars), position: word.position, bytes: word.bytes, into: &sink)
        }
    }

    func filter(_ tokens: InputTokens, text: UnsafeBufferPointer<UInt8>, into sink: inout TokenSink) throws {
        var emitter = ScalarEmitter()
        for token in tokens {
            let scalars = String(decoding: token.term, as: UTF8.self).unicodeScalars.map(\.value)
            if tokenizer.stopWords.contains(String(scalars: scalars)) { continue }
            guard emitter.emit(english(scalars), position: token.position, bytes: token.bytes, into: &sink) else { return }
        }
    }

    /// A word's English form: the typographic apostrophe made plain, the
    /// possessive removed, the stem.
    func english(_ word: [UInt32]) -> [UInt32] {
        var word = word.map { $0 == 0x2019 || $0 == 0x2018 ? 0x27 : $0 }
        if word.count > 2, word.suffix(2) == [0x27, 0x73] { word.removeLast(2) }
        else if word.last == 0x27 { word.removeLast() }
        return stems ? EnglishStemmer.stem(word) : word
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(EnglishAnalyzer.self) }
