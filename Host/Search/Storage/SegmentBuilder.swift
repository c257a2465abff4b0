import TrellisPluginHost

/// A document ready to be written into a segment: analyzed and typed.
struct PreparedDocument: Sendable {
    var id: String
    /// The document as JSON, kept for stored fields and re-indexing.
    var source: [UInt8]
    var text: [String: [AnalyzedToken]] = [:]
    var keywords: [String: [String]] = [:]
    var numbers: [String: Double] = [:]
}

/// Builds a segment from prepared documents, in the order given.
struct SegmentBuilder {
    let schema: SearchSchema
    private var ids = ByteTable()
    private var sources = ByteTable()
    private var text: [String: TextAccumulator] = [:]
    private var keywords: [String: KeywordAccumulator] = [:]
    private var numbers: [String: [Double]] = [:]
    private(set) var count = 0

    init(schema: SearchSchema) {
        self.schema = schema
        for field in schema.fields {
            switch field.type {
            case .text: text[field.name] = TextAccumulator()
            case .keyword: keywords[field.name] = KeywordAccumulator()
            case .number, .date: numbers[field.name] = []
            }
        }
    }

    /// The postings of one term while a segment is built.
    struct TermPostings {
        var docs: [UInt32] = []
        var freqs: [UInt32] = []
        var positions: [UInt32] = []
        var starts: [UInt32] = []
        var ends: [UInt32] = []
    }

    /// Classes, so that filling one never copies what it holds.
    final class TextAccumulator {
        var terms: [String: Int] = [:]
        var postings: [TermPostings] = []
        var lengths: [UInt32] = []
        var totalLength: UInt64 = 0
    }

    final class KeywordAccumulator {
        var values: [String: Int] = [:]
        var docs: [[UInt32]] = []
        var perDoc: [[UInt32]] = []
    }

    mutating func add(_ document: PreparedDocument) {
        let doc = UInt32(count)
        count += 1
        ids.append(document.id.utf8)
        sources.append(document.source)
        for (field, accumulator) in text {
            let tokens = document.text[field] ?? []
            // The document's tokens grouped by term, in the order they came.
            var pairs: [(term: Int, index: Int)] = []
            pairs.reserveCapacity(tokens.count)
            for (index, token) in tokens.enumerated() {
                let term: Int
                if let known = accumulator.terms[token.term] {
                    term = known
                } else {
                    term = accumulator.postings.count
                    accumulator.terms[token.term] = term
                    accumulator.postings.append(TermPostings())
                }
                pairs.append((term, index))
            }
            pairs.sort { $0.term != $1.term ? $0.term < $1.term : $0.index < $1.index }
            var start = 0
            while start < pairs.count {
                let term = pairs[start].term
                var end = start
                while end < pairs.count && pairs[end].term == term { end += 1 }
                accumulator.postings[term].docs.append(doc)
                accumulator.postings[term].freqs.append(UInt32(end - start))
                for pair in pairs[start..<end] {
                    let token = tokens[pair.index]
                    accumulator.postings[term].positions.append(UInt32(clamping: token.position))
                    accumulator.postings[term].starts.append(UInt32(clamping: token.bytes.lowerBound))
                    accumulator.postings[term].ends.append(UInt32(clamping: token.bytes.upperBound))
                }
                start = end
            }
            let length = UInt32(tokens.count)
            accumulator.lengths.append(length)
            accumulator.totalLength += UInt64(length)
        }
        for (field, accumulator) in keywords {
            var ordinals: [UInt32] = []
            for value in Set(document.keywords[field] ?? []).sorted() {
                let ordinal: Int
                if let known = accumulator.values[value] {
                    ordinal = known
                } else {
                    ordinal = accumulator.docs.count
                    accumulator.values[value] = ordinal
                    accumulator.docs.append([])
                }
                accumulator.docs[ordinal].append(doc)
                ordinals.append(UInt32(ordinal))
            }
            accumulator.perDoc.append(ordinals)
        }
        for field in numbers.keys { numbers[field]!.append(document.numbers[field] ?? .nan) }
    }

    /// The segment, with sorted dictionaries and score bounds.
    func build(name: String) -> Segment {
        var textFields: [String: TextPostings] = [:]
        for (field, accumulator) in text {
            var out = TextPostings()
            out.lengths = accumulator.lengths
            out.totalLength = accumulator.totalLength
            let sorted = accumulator.terms.map { (bytes: Array($0.key.utf8), index: $0.value) }
                .sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
            for (term, index) in sorted {
                let postings = accumulator.postings[index]
                out.terms.append(term)
                var maxFreq: UInt32 = 0, minLength = UInt32.max
                var blockMaxFreq: UInt32 = 0, blockMinLength = UInt32.max
                var cursor = 0
                for (slot, doc) in postings.docs.enumerated() {
                    let freq = postings.freqs[slot]
                    out.docs.append(doc)
                    out.freqs.append(freq)
                    out.positions.append(contentsOf: postings.positions[cursor..<(cursor + Int(freq))])
                    out.startBytes.append(contentsOf: postings.starts[cursor..<(cursor + Int(freq))])
                    out.endBytes.append(contentsOf: postings.ends[cursor..<(cursor + Int(freq))])
                    cursor += Int(freq)
                    out.positionStart.append(UInt32(out.positions.count))
                    let length = accumulator.lengths[Int(doc)]
                    maxFreq = max(maxFreq, freq)
                    minLength = min(minLength, length)
                    blockMaxFreq = max(blockMaxFreq, freq)
                    blockMinLength = min(blockMinLength, length)
                    if (slot + 1) % TextPostings.blockSize == 0 || slot + 1 == postings.docs.count {
                        out.blockMaxFreq.append(blockMaxFreq)
                        out.blockMinLength.append(blockMinLength)
                        blockMaxFreq = 0
                        blockMinLength = .max
                    }
                }
                out.postingStart.append(UInt32(out.docs.count))
                out.blockStart.append(UInt32(out.blockMaxFreq.count))
                out.maxFreq.append(maxFreq)
                out.minLength.append(minLength)
            }
            textFields[field] = out
        }
        var keywordFields: [String: KeywordValues] = [:]
        for (field, accumulator) in keywords {
            var out = KeywordValues()
            let order = accumulator.values.map { (bytes: Array($0.key.utf8), ordinal: $0.value) }
                .sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
            var renumbered = [UInt32](repeating: 0, count: order.count)
            for (newOrdinal, (value, oldOrdinal)) in order.enumerated() {
                renumbered[oldOrdinal] = UInt32(newOrdinal)
                out.values.append(value)
                out.docs.append(contentsOf: accumulator.docs[oldOrdinal])
                out.postingStart.append(UInt32(out.docs.count))
            }
            for ordinals in accumulator.perDoc {
                out.ordinals.append(contentsOf: ordinals.map { renumbered[Int($0)] }.sorted())
                out.docStart.append(UInt32(out.ordinals.count))
            }
            keywordFields[field] = out
        }
        return Segment(name: name, ids: ids, sources: sources, text: textFields, keywords: keywordFields, numbers: numbers)
    }
}
