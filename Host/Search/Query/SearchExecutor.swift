import Foundation
import TrellisCore

extension SearchIndex {
    /// Runs a query against the last commit.
    public func search(_ request: SearchRequest) throws(SearchError) -> SearchResult {
        if let reindexProblem { throw reindexProblem }
        let started = DispatchTime.now().uptimeNanoseconds
        guard request.limit >= 0, request.limit <= 1000 else { throw .query("limit is 0 to 1000 (it is \(request.limit))", at: 0) }
        guard request.offset >= 0, request.offset + request.limit <= 10_000 else {
            throw .query("offset + limit is at most 10000; narrow the query instead of paging that deep", at: 0)
        }
        try checkFields(request)
        var parser = QueryParser(defaultOperator: request.defaultOperator)
        parser.maximumLength = 4096
        let node = try parser.parse(request.query)
        let snapshot = self.snapshot
        var preparer = QueryPreparer(index: self, snapshot: snapshot, fields: request.fields)
        let prepared = try preparer.prepare(node)

        let wanted = request.offset + request.limit
        var total = 0
        var totalIsExact = true
        var facetCounts: [String: [String: Int]] = [:]
        let page: ArraySlice<(segment: Int, doc: UInt32, score: Double)>
        if !request.exhaustive, request.sort.isEmpty, request.facets.isEmpty, wanted > 0, let terms = TopKDisjunction.terms(of: prepared) {
            // An OR of terms ranked by score: the top k with pruning.
            var heap = TopKDisjunction.Heap(capacity: wanted)
            for (number, live) in snapshot.segments.enumerated() {
                let filter = SegmentFilter(segment: live.segment, filters: request.filters)
                let (matched, skipped) = TopKDisjunction.run(terms, segment: number, live: live, schema: schema,
                                                             statistics: preparer.statistics, filter: filter, heap: &heap)
                total += matched
                if skipped { totalIsExact = false }
            }
            page = heap.items.map { ($0.segment, $0.doc, $0.score) }.dropFirst(request.offset).prefix(request.limit)
        } else {
            // Per segment: matches, less deleted documents and those the filters exclude.
            var candidates: [(segment: Int, doc: UInt32, score: Double)] = []
            for (number, live) in snapshot.segments.enumerated() {
                let scorer = SegmentScorer(live: live, schema: schema, statistics: preparer.statistics)
                let matches = scorer.evaluate(prepared)
                let filter = SegmentFilter(segment: live.segment, filters: request.filters)
                for (slot, doc) in matches.docs.enumerated() where !live.isDeleted(Int(doc)) && filter.accepts(Int(doc)) {
                    total += 1
                    candidates.append((number, doc, matches.scores[slot]))
                    for field in request.facets {
                        guard let values = live.segment.keywords[field] else { continue }
                        for ordinal in values.ordinals(of: Int(doc)) {
                            facetCounts[field, default: [:]][values.values.string(Int(ordinal)), default: 0] += 1
                        }
                    }
                }
            }
            let ordered = order(candidates, by: request.sort, snapshot: snapshot, keeping: wanted)
            page = ordered.dropFirst(request.offset).prefix(request.limit)
        }

        var highlightTerms: [String: Set<[UInt8]>] = [:]
        prepared.highlightTerms(into: &highlightTerms)
        var hits: [SearchHit] = []
        let readsSource = schema.fields.contains { $0.stored }
        for candidate in page {
            let segment = snapshot.segments[candidate.segment].segment
            guard readsSource else {
                let id = segment.ids.string(Int(candidate.doc))
                hits.append(SearchHit(id: id, score: candidate.score, fields: .object([schema.idField: .string(id)]), highlights: [:]))
                continue
            }
            let source = (try? JSONValue(json: Array(segment.sources.bytes[segment.sources.range(Int(candidate.doc))]))) ?? .null
            var fields: [String: JSONValue] = [:]
            if let idValue = source[schema.idField] { fields[schema.idField] = idValue }
            for field in schema.fields where field.stored {
                if let value = source[field.name] { fields[field.name] = value }
            }
            var highlights: [String: Highlight] = [:]
            if request.highlight {
                for field in schema.textFields where field.stored {
                    guard let terms = highlightTerms[field.name], let value = source[field.name], let text = Self.text(value),
                          let highlight = Highlighter.highlight(text: text, segment: segment, field: field.name,
                                                                doc: Int(candidate.doc), terms: terms, marks: request.marks,
                                                                length: request.snippetLength) else { continue }
                    highlights[field.name] = highlight
                }
            }
            hits.append(SearchHit(id: segment.ids.string(Int(candidate.doc)), score: candidate.score, fields: .object(fields),
                                  highlights: highlights))
        }
        var facets: [String: [FacetCount]] = [:]
        for field in request.facets {
            let counts = (facetCounts[field] ?? [:]).map { FacetCount(value: $0.key, count: $0.value) }
                .sorted { $0.count != $1.count ? $0.count > $1.count : $0.value < $1.value }
            facets[field] = Array(counts.prefix(request.facetLimit))
        }
        let suggestion = total == 0 || !preparer.unmatched.isEmpty ? didYouMean(request.query, preparer.unmatched, snapshot) : nil
        let microseconds = Int((DispatchTime.now().uptimeNanoseconds - started) / 1000)
        var result = SearchResult(total: total, hits: hits, facets: facets, suggestion: suggestion, microseconds: microseconds)
        result.totalIsExact = totalIsExact
        analytics?.record(query: request.query, total: total, microseconds: microseconds)
        return result
    }

    private func checkFields(_ request: SearchRequest) throws(SearchError) {
        let names = schema.fields.map(\.name)
        func known(_ name: String, _ types: Set<SearchSchema.FieldType>, _ use: String) throws(SearchError) {
            guard let field = schema.field(name) else {
                throw .query("\(use): no field '\(name)'" + (closest(to: name, in: names).map { " (did you mean '\($0)'?)" } ?? ""), at: 0)
            }
            guard types.contains(field.type) else {
                throw .query("\(use): '\(name)' is a \(field.type.rawValue) field; \(use) takes \(types.map(\.rawValue).sorted().joined(separator: " or ")) fields", at: 0)
            }
        }
        for name in request.fields ?? [] { try known(name, [.text], "fields") }
        for name in request.facets { try known(name, [.keyword], "facets") }
        for key in request.sort { try known(key.field, [.keyword, .number, .date], "sort") }
        for filter in request.filters {
            switch filter {
            case .equals(let field, _): try known(field, [.keyword], "filter")
            case .range(let field, _, _, _, _): try known(field, [.number, .date], "range filter")
            }
        }
    }

    /// The first `keeping` candidates in order: by score (ties by id), or by the sort keys.
    private func order(_ candidates: [(segment: Int, doc: UInt32, score: Double)], by keys: [SortKey], snapshot: IndexSnapshot,
                       keeping: Int) -> [(segment: Int, doc: UInt32, score: Double)] {
        guard keeping > 0 else { return [] }
        func id(_ candidate: (segment: Int, doc: UInt32, score: Double)) -> String {
            snapshot.segments[candidate.segment].segment.ids.string(Int(candidate.doc))
        }
        // Best first; equal scores by id, so pages are stable.
        func before(_ a: (segment: Int, doc: UInt32, score: Double), _ b: (segment: Int, doc: UInt32, score: Double)) -> Bool {
            a.score != b.score ? a.score > b.score : id(a) < id(b)
        }
        if keys.isEmpty && keeping > 64 { return Array(candidates.sorted(by: before).prefix(keeping)) }
        if keys.isEmpty {
            // A bounded selection: only the best `keeping` are kept, in order.
            var best: [(segment: Int, doc: UInt32, score: Double)] = []
            best.reserveCapacity(keeping + 1)
            for candidate in candidates {
                if best.count == keeping, let last = best.last, candidate.score < last.score || !before(candidate, last) { continue }
                let at = best.firstIndex { before(candidate, $0) } ?? best.count
                best.insert(candidate, at: at)
                if best.count > keeping { best.removeLast() }
            }
            return best
        }
        func value(_ candidate: (segment: Int, doc: UInt32, score: Double), _ key: SortKey) -> (Double?, String?) {
            let segment = snapshot.segments[candidate.segment].segment
            if let numbers = segment.numbers[key.field] {
                let number = numbers[Int(candidate.doc)]
                return (number.isNaN ? nil : number, nil)
            }
            if let values = segment.keywords[key.field], let first = values.ordinals(of: Int(candidate.doc)).first {
                return (nil, values.values.string(Int(first)))
            }
            return (nil, nil)
        }
        let sorted = candidates.sorted { left, right in
            for key in keys {
                let (a, b) = (value(left, key), value(right, key))
                // Documents without the field go last either way.
                switch (a.0 ?? nil, b.0 ?? nil, a.1, b.1) {
                case (let x?, let y?, _, _) where x != y: return key.descending ? x > y : x < y
                case (_?, nil, _, _): return true
                case (nil, _?, _, _): return false
                case (_, _, let x?, let y?) where x != y: return key.descending ? x > y : x < y
                case (_, _, _?, nil): return true
                case (_, _, nil, _?): return false
                default: continue
                }
            }
            return left.score != right.score ? left.score > right.score : id(left) < id(right)
        }
        return Array(sorted.prefix(keeping))
    }

    /// The query with each unmatched word replaced by the dictionary's most
    /// frequent term within two edits, or nil when none is.
    private func didYouMean(_ query: String, _ unmatched: [(fields: [String], word: String)], _ snapshot: IndexSnapshot) -> String? {
        var replacements: [String: String] = [:]
        // Each word read the dictionary: the first few are enough for a suggestion.
        for (fields, word) in unmatched.prefix(4) where replacements[word] == nil {
            let folded = Array(word.lowercased().unicodeScalars.map(\.value))
            guard folded.count >= 3 else { continue }
            var best: (term: String, distance: Int, frequency: Int)?
            for live in snapshot.segments {
                for field in fields {
                    guard let postings = live.segment.text[field] else { continue }
                    for at in 0..<postings.terms.count {
                        let term = postings.terms.string(at)
                        let limit = folded.count < 6 ? 1 : 2
                        guard let distance = EditDistance.within(folded, Array(term.unicodeScalars.map(\.value)), limit: limit),
                              distance > 0 else { continue }
                        let frequency = postings.docFreq(at)
                        if best == nil || distance < best!.distance || (distance == best!.distance && frequency > best!.frequency) {
                            best = (term, distance, frequency)
                        }
                    }
                }
            }
            if let best { replacements[word] = best.term }
        }
        guard !replacements.isEmpty else { return nil }
        return query.split(separator: " ", omittingEmptySubsequences: false)
            .map { part in replacements[String(part)] ?? String(part) }.joined(separator: " ")
    }
}

/// A request's filters, checked against one segment's documents.
struct SegmentFilter {
    /// Per keyword filter: the accepted ordinals in this segment.
    private var keywordSets: [(values: KeywordValues?, ordinals: Set<UInt32>)] = []
    private var ranges: [(values: [Double]?, lower: Double?, upper: Double?, includeLower: Bool, includeUpper: Bool)] = []

    init(segment: Segment, filters: [SearchFilter]) {
        for filter in filters {
            switch filter {
            case .equals(let field, let values):
                let keywordValues = segment.keywords[field]
                let ordinals = Set(values.compactMap { keywordValues?.values.find(Array($0.utf8)).map(UInt32.init) })
                keywordSets.append((keywordValues, ordinals))
            case .range(let field, let lower, let upper, let includeLower, let includeUpper):
                ranges.append((segment.numbers[field], lower, upper, includeLower, includeUpper))
            }
        }
    }

    func accepts(_ doc: Int) -> Bool {
        for (values, ordinals) in keywordSets {
            guard let values, values.ordinals(of: doc).contains(where: ordinals.contains) else { return false }
        }
        for range in ranges {
            guard let value = range.values?[doc], !value.isNaN else { return false }
            if let lower = range.lower, range.includeLower ? value < lower : value <= lower { return false }
            if let upper = range.upper, range.includeUpper ? value > upper : value >= upper { return false }
        }
        return true
    }
}
