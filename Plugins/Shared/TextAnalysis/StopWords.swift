/// Stop word lists by name.
public enum StopWords {
    /// The usual English list of search engines (Lucene's): 33 words.
    public static let english: Set<String> = [
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not", "of",
        "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "will", "with",
    ]

    /// The list a config names: "english", "none", or the words themselves
    /// (folded as the tokenizer folds text, so "The" stops "the").
    public static func named(_ setting: StopWordsSetting?, default fallback: Set<String>) -> Set<String> {
        switch setting {
        case nil: return fallback
        case .named(let name): return name == "english" ? english : []
        case .words(let words): return Set(words.map(CaseFolding.fold))
        }
    }
}

/// `stop_words` in an analyzer's config: a list's name or the words.
public enum StopWordsSetting: Decodable {
    case named(String)
    case words([String])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let name = try? container.decode(String.self) {
            self = .named(name)
        } else {
            self = .words(try container.decode([String].self))
        }
    }
}
