import Foundation
import TrellisCore
import TrellisPluginHost

/// A query analyzed and expanded against one snapshot: every word is a
/// field's terms as the field's analyzer makes them, prefixes and fuzzy
/// words are expanded to the dictionary's terms, and every term carries its
/// weight (BM25's idf, boosts, a fuzzy match's discount).
indirect enum PreparedQuery {
    struct WeightedTerm {
        var bytes: [UInt8]
        /// idf × boost × discount.
        var weight: Double
    }

    /// Any of these terms of one field; each adds its BM25 score.
    case terms(field: String, [WeightedTerm])
    /// These terms of one field in order (`offsets` from the first, as the
    /// analyzer placed them), at most `slop` positions off.
    case phrase(field: String, terms: [[UInt8]], offsets: [Int], slop: Int, weight: Double)
    case boolean(must: [PreparedQuery], should: [PreparedQuery], mustNot: [PreparedQuery])
    /// A keyword field holds this value exactly (it selects; it adds no score).
    case keyword(field: String, value: [UInt8])
    case all
    case nothing

    /// The terms a highlighter marks, by field.
    func highlightTerms(into result: inout [String: Set<[UInt8]>]) {
        switch self {
        case .terms(let field, let terms): result[field, default: []].formUnion(terms.map(\.bytes))
        case .phrase(let field, let terms, _, _, _): result[field, default: []].formUnion(terms)
        case .boolean(let must, let should, _):
            for part in must + should { part.highlightTerms(into: &result) }
        case .keyword, .all, .nothing: break
        }
    }
}

/// Index-wide figures BM25 needs, over every segment of a snapshot.
struct CorpusStatistics {
    let snapshot: IndexSnapshot
    let documentCount: Int
    private var averageLengths: [String: Double] = [:]
    private var frequencies: [String: [[UInt8]: Int]] = [:]

    init(snapshot: IndexSnapshot, schema: SearchSchema) {
        self.snapshot = snapshot
        documentCount = snapshot.documentCount
        for field in schema.textFields {
            let total = snapshot.segments.reduce(UInt64(0)) { $0 + ($1.segment.text[field.name]?.totalLength ?? 0) }
            averageLengths[field.name] = documentCount == 0 ? 1 : max(Double(total) / Double(documentCount), 1e-9)
        }
    }

    func averageLength(_ field: String) -> Double { averageLengths[field] ?? 1 }

    /// Documents holding `term` in `field`, deleted ones included until a merge.
    mutating func documentFrequency(_ field: String, _ term: [UInt8]) -> Int {
        if let known = frequencies[field]?[term] { return known }
        var count = 0
        for live in snapshot.segments {
            guard let postings = live.segment.text[field], let index = postings.terms.find(term) else { continue }
            count += postings.docFreq(index)
        }
        frequencies[field, default: [:]][term] = count
        return count
    }

    /// BM25's idf: ln(1 + (N − df + 0.5) / (df + 0.5)).
    mutating func idf(_ field: String, _ term: [UInt8]) -> Double {
        let df = Double(documentFrequency(field, term))
        return log(1 + (Double(documentCount) - df + 0.5) / (df + 0.5))
    }
}

/// Turns a parsed query into a prepared one.
struct QueryPreparer {
    let index: SearchIndex
    var statistics: CorpusStatistics
    /// Fields a bare word is looked for in.
    let defaultFields: [String]
    /// Words that matched no term in any field, for "did you mean".
    var unmatched: [(fields: [String], word: String)] = []
    /// At most this many terms a prefix or fuzzy word expands to.
    let maximumExpansions = 64
    /// At most this many prefix or fuzzy words in one query: each one reads
    /// the term dictionary.
    static let maximumExpandedWords = 16
    var expandedWords = 0

    init(index: SearchIndex, snapshot: IndexSnapshot, fields: [String]?) {
        self.index = index
        statistics = CorpusStatistics(snapshot: snapshot, schema: index.schema)
        defaultFields = fields ?? index.schema.textFields.map(\.name)
    }

    mutating func prepare(_ node: QueryNode) throws(SearchError) -> PreparedQuery {
        switch node {
        case .all: return .all
        case .term(let field, let text, let fuzzy, let prefix, let boost):
            let fields = try targetFields(field)
            var parts: [PreparedQuery] = []
            for name in fields {
                let part = try word(name, text, fuzzy: fuzzy, prefix: prefix, boost: boost)
                if case .nothing = part { continue }
                parts.append(part)
            }
            if parts.isEmpty, fuzzy == nil, !prefix { unmatched.append((fields, text)) }
            return parts.count == 1 ? parts[0] : parts.isEmpty ? .nothing : .boolean(must: [], should: parts, mustNot: [])
        case .phrase(let field, let text, let slop, let boost):
            var parts: [PreparedQuery] = []
            for name in try targetFields(field) {
                if let keyword = try keywordTerm(name, text) {
                    parts.append(keyword)
                    continue
                }
                let tokens = try index.chain(name).analyze(text)
                guard !tokens.isEmpty else { continue }
                if tokens.count == 1 {
                    let bytes = Array(tokens[0].term.utf8)
                    parts.append(.terms(field: name, [.init(bytes: bytes, weight: statistics.idf(name, bytes) * boost)]))
                    continue
                }
                let terms = tokens.map { Array($0.term.utf8) }
                let weight = terms.reduce(0) { $0 + statistics.idf(name, $1) } * boost
                parts.append(.phrase(field: name, terms: terms, offsets: tokens.map { $0.position - tokens[0].position }, slop: slop,
                                     weight: weight))
            }
            return parts.count == 1 ? parts[0] : parts.isEmpty ? .nothing : .boolean(must: [], should: parts, mustNot: [])
        case .boolean(let clauses):
            var must: [PreparedQuery] = [], should: [PreparedQuery] = [], mustNot: [PreparedQuery] = []
            for clause in clauses {
                let prepared = try prepare(clause.node)
                switch clause.occur {
                case .must:
                    // A word the analyzer drops entirely (a stop word) asks for nothing.
                    if case .nothing = prepared, Self.analyzesToNothing(clause.node) { continue }
                    must.append(prepared)
                case .should: should.append(prepared)
                case .mustNot: mustNot.append(prepared)
                }
            }
            return .boolean(must: must, should: should, mustNot: mustNot)
        }
    }

    static func analyzesToNothing(_ node: QueryNode) -> Bool {
        if case .term(_, _, nil, false, _) = node { return true }
        if case .phrase = node { return true }
        return false
    }

    func targetFields(_ field: String?) throws(SearchError) -> [String] {
        guard let field else { return defaultFields }
        guard let spec = index.schema.field(field) else {
            let names = index.schema.fields.map(\.name)
            throw .query("no field '\(field)' in the index" + (closest(field, names).map { " (did you mean '\($0)'?)" } ?? "")
                         + "; its fields are \(names.joined(separator: ", "))", at: 0)
        }
        guard spec.type == .text || spec.type == .keyword else {
            throw .query("'\(field)' is a \(spec.type.rawValue) field: filter it with a range, not in the query", at: 0)
        }
        return [field]
    }

    /// An exact keyword value, when `field` is a keyword field.
    mutating func keywordTerm(_ field: String, _ text: String) throws(SearchError) -> PreparedQuery? {
        guard index.schema.field(field)?.type == .keyword else { return nil }
        return .keyword(field: field, value: Array(text.utf8))
    }

    mutating func word(_ field: String, _ text: String, fuzzy: Int?, prefix: Bool, boost: Double) throws(SearchError) -> PreparedQuery {
        if let keyword = try keywordTerm(field, text) { return keyword }
        if prefix || fuzzy != nil {
            expandedWords += 1
            guard expandedWords <= Self.maximumExpandedWords else {
                throw .query("more than \(Self.maximumExpandedWords) prefix or fuzzy words (each reads the whole dictionary); use fewer", at: 0)
            }
            // Prefixes and fuzzy words are matched against the dictionary as folded, not stemmed.
            let folded = Array(text.lowercased().unicodeScalars.map(\.value))
            var expanded: [[UInt8]: Double] = [:]
            for live in statistics.snapshot.segments {
                guard let postings = live.segment.text[field] else { continue }
                if prefix {
                    let key = Array(text.lowercased().utf8)
                    var at = postings.terms.lowerBound(key)
                    while at < postings.terms.count, postings.terms.hasPrefix(at, key) {
                        expanded[Array(postings.terms.bytes[postings.terms.range(at)])] = 1
                        at += 1
                    }
                } else {
                    let allowed = fuzzy == -1 ? EditDistance.allowedTypos(length: folded.count) : fuzzy!
                    for at in 0..<postings.terms.count {
                        let candidate = Array(postings.terms.string(at).unicodeScalars.map(\.value))
                        if let distance = EditDistance.within(folded, candidate, limit: allowed) {
                            let discount = 1 / Double(1 + distance)
                            let bytes = Array(postings.terms.bytes[postings.terms.range(at)])
                            expanded[bytes] = max(expanded[bytes] ?? 0, discount)
                        }
                    }
                }
            }
            // The most frequent terms first, when there are too many.
            var terms = expanded.map { ($0.key, $0.value, statistics.documentFrequency(field, $0.key)) }
            terms.sort { $0.2 != $1.2 ? $0.2 > $1.2 : $0.0.lexicographicallyPrecedes($1.0) }
            let chosen = terms.prefix(maximumExpansions).map { term in
                PreparedQuery.WeightedTerm(bytes: term.0, weight: statistics.idf(field, term.0) * boost * term.1)
            }
            return chosen.isEmpty ? .nothing : .terms(field: field, chosen)
        }
        let tokens = try index.chain(field).analyze(text)
        guard !tokens.isEmpty else { return .nothing }
        if tokens.count > 1 {
            // One word the analyzer splits ("e-mail") is matched as a phrase.
            let terms = tokens.map { Array($0.term.utf8) }
            return .phrase(field: field, terms: terms, offsets: tokens.map { $0.position - tokens[0].position }, slop: 0,
                           weight: terms.reduce(0) { $0 + statistics.idf(field, $1) } * boost)
        }
        let bytes = Array(tokens[0].term.utf8)
        guard statistics.documentFrequency(field, bytes) > 0 else { return .nothing }
        return .terms(field: field, [.init(bytes: bytes, weight: statistics.idf(field, bytes) * boost)])
    }

    func closest(_ word: String, _ candidates: [String]) -> String? { TrellisCore.closest(to: word, in: candidates) }
}

