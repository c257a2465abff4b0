extension SearchIndex {
    /// Terms of a text field that start with `prefix` (folded), the most
    /// frequent first: autocomplete. Without a field, every text field's.
    public func suggest(prefix: String, field: String? = nil, limit: Int = 10) throws(SearchError) -> [FacetCount] {
        if let reindexProblem { throw reindexProblem }
        if let field, schema.field(field)?.type != .text {
            throw .query("suggestions come from text fields; '\(field)' is not one", at: 0)
        }
        let key = Array(prefix.lowercased().utf8)
        guard !key.isEmpty else { return [] }
        var counts: [String: Int] = [:]
        for live in snapshot.segments {
            for name in field.map({ [$0] }) ?? schema.textFields.map(\.name) {
                guard let postings = live.segment.text[name] else { continue }
                var at = postings.terms.lowerBound(key)
                var seen = 0
                while at < postings.terms.count, postings.terms.hasPrefix(at, key), seen < 10_000 {
                    counts[postings.terms.string(at), default: 0] += postings.docFreq(at)
                    at += 1
                    seen += 1
                }
            }
        }
        return counts.map { FacetCount(value: $0.key, count: $0.value) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.value < $1.value }
            .prefix(max(0, min(limit, 100))).map { $0 }
    }

    public struct Statistics: Sendable {
        public var documents: Int
        public var deleted: Int
        public var segments: Int
        public var generation: Int
        public var bytes: Int
        public var terms: [String: Int]
        public var analyzers: [String: String]
    }

    public func statistics() -> Statistics {
        let snapshot = self.snapshot
        var terms: [String: Int] = [:]
        for live in snapshot.segments {
            for (field, postings) in live.segment.text { terms[field, default: 0] += postings.terms.count }
        }
        let bytes = ((try? FileManager.default.contentsOfDirectory(atPath: files.directory)) ?? []).reduce(0) { total, file in
            total + (((try? FileManager.default.attributesOfItem(atPath: files.path(file)))?[.size] as? NSNumber)?.intValue ?? 0)
        }
        var analyzers: [String: String] = [:]
        for field in schema.textFields {
            if case .success(let chain)? = chains[field.name] { analyzers[field.name] = chain.signature }
        }
        return Statistics(documents: snapshot.liveCount, deleted: snapshot.documentCount - snapshot.liveCount,
                          segments: snapshot.segments.count, generation: snapshot.generation, bytes: bytes, terms: terms,
                          analyzers: analyzers)
    }
}

import Foundation
