/// Evaluates a prepared query in one segment: which documents match, and
/// their BM25 scores.
struct SegmentScorer {
    let live: LiveSegment
    let schema: SearchSchema
    let statistics: CorpusStatistics

    var segment: Segment { live.segment }

    /// BM25 of one posting: weight × tf·(k1+1) / (tf + k1·(1 − b + b·dl/avgdl)).
    @inline(__always)
    static func bm25(weight: Double, freq: Double, length: Double, averageLength: Double, k1: Double, b: Double) -> Double {
        weight * freq * (k1 + 1) / (freq + k1 * (1 - b + b * length / averageLength))
    }

    func evaluate(_ query: PreparedQuery) -> Matches {
        switch query {
        case .nothing: return Matches()
        case .all:
            return Matches(docs: (0..<UInt32(segment.count)).map { $0 }, scores: [Double](repeating: 0, count: segment.count))
        case .keyword(let field, let value):
            guard let values = segment.keywords[field], let ordinal = values.values.find(value) else { return Matches() }
            let docs = Array(values.docs(of: ordinal))
            return Matches(docs: docs, scores: [Double](repeating: 0, count: docs.count))
        case .terms(let field, let terms):
            var result = Matches()
            for term in terms { result = Matches.union(result, postings(field, term)) }
            return result
        case .phrase(let field, let terms, let offsets, let slop, let weight):
            return phrase(field, terms, offsets, slop, weight)
        case .boolean(let must, let should, let mustNot):
            var result: Matches
            if !must.isEmpty {
                result = evaluate(must[0])
                for part in must.dropFirst() where !result.docs.isEmpty { result = Matches.intersection(result, evaluate(part)) }
                for part in should where !result.docs.isEmpty { result = Matches.adding(result, evaluate(part)) }
            } else if !should.isEmpty {
                result = Matches()
                for part in should { result = Matches.union(result, evaluate(part)) }
            } else {
                result = evaluate(.all)
            }
            for part in mustNot where !result.docs.isEmpty { result = Matches.difference(result, evaluate(part)) }
            return result
        }
    }

    private func field(_ name: String) -> (postings: TextPostings, k1: Double, b: Double, averageLength: Double)? {
        guard let postings = segment.text[name], let spec = schema.field(name) else { return nil }
        return (postings, spec.k1, spec.b, statistics.averageLength(name))
    }

    /// One term's documents with their scores.
    func postings(_ name: String, _ term: PreparedQuery.WeightedTerm) -> Matches {
        guard let (postings, k1, b, average) = field(name), let index = postings.terms.find(term.bytes) else { return Matches() }
        let weight = term.weight * (schema.field(name)?.boost ?? 1)
        let range = postings.postings(of: index)
        var out = Matches()
        out.docs = Array(postings.docs[range])
        out.scores = [Double](unsafeUninitializedCapacity: range.count) { buffer, initialized in
            for (slot, posting) in range.enumerated() {
                let doc = Int(postings.docs[posting])
                buffer[slot] = Self.bm25(weight: weight, freq: Double(postings.freqs[posting]), length: Double(postings.lengths[doc]),
                                         averageLength: average, k1: k1, b: b)
            }
            initialized = range.count
        }
        return out
    }

    /// Documents where the terms appear in order (each at its offset from
    /// the first), at most `slop` positions off; scored with the number of
    /// such places as the frequency.
    func phrase(_ name: String, _ terms: [[UInt8]], _ offsets: [Int], _ slop: Int, _ weight: Double) -> Matches {
        guard let (postings, k1, b, average) = field(name) else { return Matches() }
        var indexes: [Int] = []
        for term in terms {
            guard let index = postings.terms.find(term) else { return Matches() }
            indexes.append(index)
        }
        // Rarest first, so the intersection shrinks fastest.
        let order = indexes.indices.sorted { postings.docFreq(indexes[$0]) < postings.docFreq(indexes[$1]) }
        var cursors = indexes.map { postings.postings(of: $0).lowerBound }
        let ends = indexes.map { postings.postings(of: $0).upperBound }
        let boost = schema.field(name)?.boost ?? 1
        var out = Matches()
        var candidateCursor = cursors[order[0]]
        while candidateCursor < ends[order[0]] {
            let doc = postings.docs[candidateCursor]
            var all = true
            for which in order.dropFirst() {
                while cursors[which] < ends[which] && postings.docs[cursors[which]] < doc { cursors[which] += 1 }
                if cursors[which] >= ends[which] { return out }
                if postings.docs[cursors[which]] != doc { all = false }
            }
            cursors[order[0]] = candidateCursor
            if all {
                let lists = indexes.indices.map { which -> ArraySlice<UInt32> in
                    let posting = cursors[which]
                    return postings.positions[Int(postings.positionStart[posting])..<Int(postings.positionStart[posting + 1])]
                }
                let frequency = Self.phraseFrequency(lists, offsets, slop)
                if frequency > 0 {
                    out.docs.append(doc)
                    out.scores.append(Self.bm25(weight: weight * boost, freq: Double(frequency), length: Double(postings.lengths[Int(doc)]),
                                                averageLength: average, k1: k1, b: b))
                }
            }
            candidateCursor += 1
        }
        return out
    }

    /// How many places hold the phrase: for each position of the first term,
    /// whether every other term has a position within `slop` of where it
    /// belongs (exact order when slop is 0).
    static func phraseFrequency(_ lists: [ArraySlice<UInt32>], _ offsets: [Int], _ slop: Int) -> Int {
        var count = 0
        for start in lists[0] {
            var matched = true
            for which in 1..<lists.count {
                let wanted = Int(start) + offsets[which]
                if !lists[which].contains(where: { abs(Int($0) - wanted) <= slop }) {
                    matched = false
                    break
                }
            }
            if matched { count += 1 }
        }
        return count
    }
}
