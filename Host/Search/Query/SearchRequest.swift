import TrellisCore

/// A query with everything around it: filters, facets, sorting, pages,
/// highlights.
public struct SearchRequest: Sendable {
    public var query: String
    public var defaultOperator: QueryParser.DefaultOperator = .or
    /// The text fields a word without `field:` is looked for in (nil: all).
    public var fields: [String]?
    /// All must hold.
    public var filters: [SearchFilter] = []
    /// Keyword fields to count the matching documents' values of.
    public var facets: [String] = []
    public var facetLimit = 10
    /// Empty: by score, best first.
    public var sort: [SortKey] = []
    public var offset = 0
    public var limit = 10
    public var highlight = true
    public var marks = (open: "<mark>", close: "</mark>")
    /// About how long a snippet is, in characters.
    public var snippetLength = 160
    /// Scores every matching document, without top-k pruning (tests compare the two).
    var exhaustive = false

    public init(query: String) {
        self.query = query
    }
}

public enum SearchFilter: Sendable, Equatable {
    /// A keyword field holds one of the values.
    case equals(field: String, values: [String])
    /// A number or date field lies in the range (dates in seconds since 1970).
    case range(field: String, lower: Double?, upper: Double?, includeLower: Bool = true, includeUpper: Bool = true)

    public var field: String {
        switch self {
        case .equals(let field, _), .range(let field, _, _, _, _): return field
        }
    }
}

public struct SortKey: Sendable, Equatable {
    public var field: String
    public var descending: Bool

    public init(field: String, descending: Bool = false) {
        self.field = field
        self.descending = descending
    }
}

public struct SearchHit: Sendable {
    public var id: String
    public var score: Double
    /// The stored fields of the document, as indexed.
    public var fields: JSONValue
    /// Per text field that matched: a snippet with the matches marked, and
    /// each match's byte range in the field's text.
    public var highlights: [String: Highlight]
}

public struct Highlight: Sendable, Equatable {
    public var snippet: String
    public var ranges: [Range<Int>]
}

public struct FacetCount: Sendable, Equatable {
    public var value: String
    public var count: Int
}

public struct SearchResult: Sendable {
    /// How many documents match (all pages); when `totalIsExact` is false, at
    /// least this many (the top-k pruning skipped documents that could not
    /// make the page, without counting them).
    public var total: Int
    public var totalIsExact = true
    public var hits: [SearchHit]
    public var facets: [String: [FacetCount]]
    /// "Did you mean": the query with misspelled words replaced, when a word
    /// matched nothing and the dictionary holds a close one.
    public var suggestion: String?
    public var microseconds: Int

    public var json: JSONValue {
        .object([
            "total": .number(Double(total)),
            "total_exact": .bool(totalIsExact),
            "hits": .array(hits.map { hit in
                .object([
                    "id": .string(hit.id), "score": .number(hit.score), "fields": hit.fields,
                    "highlights": .object(hit.highlights.mapValues { highlight in
                        .object(["snippet": .string(highlight.snippet),
                                 "ranges": .array(highlight.ranges.map { .array([.number(Double($0.lowerBound)), .number(Double($0.upperBound))]) })])
                    }),
                ])
            }),
            "facets": .object(facets.mapValues { counts in
                .array(counts.map { .object(["value": .string($0.value), "count": .number(Double($0.count))]) })
            }),
            "suggestion": suggestion.map(JSONValue.string) ?? .null,
            "took_ms": .number(Double(microseconds) / 1000),
        ])
    }
}
