import TrellisSDK
import TrellisTextAnalysis

/// N-grams of words, for matching inside words and autocomplete: every run
/// of `min_gram`…`max_gram` scalars of each word ("search", 2–3: se, sea,
/// ea, ear, …), or with `edge: true` only those at the word's start (s, se,
/// sea, … for autocomplete). As a tokenizer it grams the standard words; as
/// a filter, the tokens it gets. Every gram keeps its word's position and
/// byte range, so a highlight covers the word.
struct NgramAnalyzer: AnalyzerPlugin {
    struct Configuration: Decodable {
        var minGram: Int?
        var maxGram: Int?
        var edge: Bool?
        var keepShort: Bool?

        enum CodingKeys: String, CodingKey {
            case minGram = "min_gram"
            case maxGram = "max_gram"
            case edge
            case keepShort = "keep_short"
        }
    }

    static let id = "analyzer.ngram"
    static let version = "1.0.0"
    static let summary = "N-grams and edge n-grams of words, for partial matching and autocomplete."
    static let isTokenFilter = true

    let minimum: Int
    let maximum: Int
    let edge: Bool
    /// A word shorter than `min_gram` is kept whole rather than dropped.
    let keepShort: Bool
    let tokenizer = WordTokenizer()

    init(configuration: Configuration, host: TrellisHost) throws {
        edge = configuration.edge ?? false
        minimum = configuration.minGram ?? (edge ? 1 : 2)
        maximum = configuration.maxGram ?? (edge ? 20 : 3)
        keepShort = configuration.keepShort ?? false
        guard minimum >= 1 else { throw PluginError.config("min_gram must be at least 1 (it is \(minimum))") }
        guard maximum >= minimum else {
            throw PluginError.config("max_gram (\(maximum)) must be at least min_gram (\(minimum))")
        }
        guard maximum - minimum <= 64 else { throw PluginError.config("max_gram - min_gram must be at most 64") }
    }

    func tokenize(_ text: UnsafeBufferPointer<UInt8>, into sink: inout TokenSink) throws {
        var emitter = ScalarEmitter()
        tokenizer.words(of: text) { word in grams(word.scalars, position: word.position, bytes: word.bytes, &emitter, &sink) }
    }

    func filter(_ tokens: InputTokens, text: UnsafeBufferPointer<UInt8>, into sink: inout TokenSink) throws {
        var emitter = ScalarEmitter()
        for token in tokens {
            let scalars = String(decoding: token.term, as: UTF8.self).unicodeScalars.map(\.value)
            guard grams(scalars, position: token.position, bytes: token.bytes, &emitter, &sink) else { return }
        }
    }

    /// Emits the grams of one word, shortest first from each start.
    func grams(_ word: [UInt32], position: Int, bytes: Range<Int>, _ emitter: inout ScalarEmitter, _ sink: inout TokenSink) -> Bool {
        if word.count < minimum {
            return keepShort ? emitter.emit(word, position: position, bytes: bytes, into: &sink) : true
        }
        let starts = edge ? 0..<1 : 0..<(word.count - minimum + 1)
        for start in starts {
            for length in minimum...min(maximum, word.count - start) {
                guard emitter.emit(Array(word[start..<(start + length)]), position: position, bytes: bytes, into: &sink) else {
                    return false
                }
            }
        }
        return true
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(NgramAnalyzer.self) }
