import TrellisPluginHost

/// The terms of one chunk of documents analyzed together, numbered from 0:
/// a document's tokens name their terms by these numbers, so that the
/// segment builder looks each term up once per chunk, not once per token.
final class ChunkTerms: @unchecked Sendable {
    private(set) var names: [String] = []
    private var numbers: [String: UInt32] = [:]

    func number(_ term: String) -> UInt32 {
        if let known = numbers[term] { return known }
        let number = UInt32(names.count)
        numbers[term] = number
        names.append(term)
        return number
    }
}

/// One text field's tokens of a document: term numbers (in `terms`),
/// positions and byte ranges.
struct FieldTokens: Sendable {
    let terms: ChunkTerms
    var numbers: [UInt32] = []
    var positions: [UInt32] = []
    var starts: [UInt32] = []
    var ends: [UInt32] = []

    init(terms: ChunkTerms, tokens: [AnalyzedToken]) {
        self.terms = terms
        numbers.reserveCapacity(tokens.count)
        positions.reserveCapacity(tokens.count)
        starts.reserveCapacity(tokens.count)
        ends.reserveCapacity(tokens.count)
        for token in tokens {
            numbers.append(terms.number(token.term))
            positions.append(UInt32(clamping: token.position))
            starts.append(UInt32(clamping: token.bytes.lowerBound))
            ends.append(UInt32(clamping: token.bytes.upperBound))
        }
    }

    var count: Int { numbers.count }
}

/// A document ready to be written into a segment: analyzed and typed.
struct PreparedDocument: Sendable {
    var id: String
    /// The document as JSON, kept for stored fields and re-indexing.
    var source: [UInt8]
    var text: [String: FieldTokens] = [:]
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

    /// A text field's postings while a segment is built, in flat arrays
    /// filled in document order: one entry per (document, term), pointing at
    /// its run of positions. `build` groups the entries by term.
    final class TextAccumulator {
        var terms: [String: UInt32] = [:]
        var termNames: [String] = []
        /// Per entry: its term, document, frequency and first position.
        var entryTerm: [UInt32] = []
        var entryDoc: [UInt32] = []
        var entryFreq: [UInt32] = []
        var entryPosition: [UInt32] = []
        var positions: [UInt32] = []
        var starts: [UInt32] = []
        var ends: [UInt32] = []
        var lengths: [UInt32] = []
        var totalLength: UInt64 = 0
        /// Scratch for one document: its tokens' terms.
        var scratch: [(term: UInt32, index: Int)] = []
        /// The chunk whose term numbers `mapping` maps to this segment's.
        var chunk: ObjectIdentifier?
        var mapping: [UInt32] = []
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
            guard let tokens = document.text[field] else {
                accumulator.lengths.append(0)
                continue
            }
            // The chunk's term numbers, mapped to this segment's once per chunk and term.
            let chunk = ObjectIdentifier(tokens.terms)
            if accumulator.chunk != chunk {
                accumulator.chunk = chunk
                accumulator.mapping.removeAll(keepingCapacity: true)
            }
            let names = tokens.terms.names
            if accumulator.mapping.count < names.count {
                accumulator.mapping.append(contentsOf: repeatElement(UInt32.max, count: names.count - accumulator.mapping.count))
            }
            // The document's tokens grouped by term, each group in the order its tokens came.
            accumulator.scratch.removeAll(keepingCapacity: true)
            for index in 0..<tokens.count {
                let local = Int(tokens.numbers[index])
                var term = accumulator.mapping[local]
                if term == .max {
                    if let known = accumulator.terms[names[local]] {
                        term = known
                    } else {
                        term = UInt32(accumulator.termNames.count)
                        accumulator.terms[names[local]] = term
                        accumulator.termNames.append(names[local])
                    }
                    accumulator.mapping[local] = term
                }
                accumulator.scratch.append((term, index))
            }
            accumulator.scratch.sort { $0.term != $1.term ? $0.term < $1.term : $0.index < $1.index }
            var start = 0
            let pairs = accumulator.scratch
            while start < pairs.count {
                let term = pairs[start].term
                var end = start + 1
                while end < pairs.count && pairs[end].term == term { end += 1 }
                accumulator.entryTerm.append(term)
                accumulator.entryDoc.append(doc)
                accumulator.entryFreq.append(UInt32(end - start))
                accumulator.entryPosition.append(UInt32(accumulator.positions.count))
                for pair in pairs[start..<end] {
                    accumulator.positions.append(tokens.positions[pair.index])
                    accumulator.starts.append(tokens.starts[pair.index])
                    accumulator.ends.append(tokens.ends[pair.index])
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
            let termCount = accumulator.termNames.count
            // Entries by term (a counting sort keeps each term's documents ascending).
            var counts = [Int](repeating: 0, count: termCount + 1)
            for term in accumulator.entryTerm { counts[Int(term) + 1] += 1 }
            for index in 0..<termCount { counts[index + 1] += counts[index] }
            var byTerm = [Int](repeating: 0, count: accumulator.entryTerm.count)
            var cursor = counts
            for (entry, term) in accumulator.entryTerm.enumerated() {
                byTerm[cursor[Int(term)]] = entry
                cursor[Int(term)] += 1
            }
            // Terms in byte order.
            let sorted = (0..<termCount).map { (bytes: Array(accumulator.termNames[$0].utf8), term: $0) }
                .sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
            let entryCount = byTerm.count, positionCount = accumulator.positions.count
            let blockCount = (0..<termCount).reduce(0) { $0 + (counts[$1 + 1] - counts[$1] + TextPostings.blockSize - 1) / TextPostings.blockSize }
            // Every array has its final size; the loop below writes each element once.
            out.docs = [UInt32](repeating: 0, count: entryCount)
            out.freqs = [UInt32](repeating: 0, count: entryCount)
            out.positionStart = [UInt32](repeating: 0, count: entryCount + 1)
            out.positions = [UInt32](repeating: 0, count: positionCount)
            out.startBytes = [UInt32](repeating: 0, count: positionCount)
            out.endBytes = [UInt32](repeating: 0, count: positionCount)
            out.postingStart = [UInt32](repeating: 0, count: termCount + 1)
            out.blockStart = [UInt32](repeating: 0, count: termCount + 1)
            out.maxFreq = [UInt32](repeating: 0, count: termCount)
            out.minLength = [UInt32](repeating: 0, count: termCount)
            out.blockMaxFreq = [UInt32](repeating: 0, count: blockCount)
            out.blockMinLength = [UInt32](repeating: 0, count: blockCount)
            out.terms.bytes.reserveCapacity(accumulator.termNames.reduce(0) { $0 + $1.utf8.count })
            out.terms.offsets.reserveCapacity(termCount + 1)
            var posting = 0, position = 0, block = 0
            let lengths = accumulator.lengths
            for (rank, (bytes, term)) in sorted.enumerated() {
                out.terms.append(bytes)
                var maxFreq: UInt32 = 0, minLength = UInt32.max
                var blockMaxFreq: UInt32 = 0, blockMinLength = UInt32.max
                let first = counts[term], last = counts[term + 1]
                for slot in first..<last {
                    let entry = byTerm[slot]
                    let doc = accumulator.entryDoc[entry], freq = accumulator.entryFreq[entry]
                    let from = Int(accumulator.entryPosition[entry])
                    out.docs[posting] = doc
                    out.freqs[posting] = freq
                    for offset in 0..<Int(freq) {
                        out.positions[position] = accumulator.positions[from + offset]
                        out.startBytes[position] = accumulator.starts[from + offset]
                        out.endBytes[position] = accumulator.ends[from + offset]
                        position += 1
                    }
                    posting += 1
                    out.positionStart[posting] = UInt32(position)
                    let length = lengths[Int(doc)]
                    maxFreq = max(maxFreq, freq)
                    minLength = min(minLength, length)
                    blockMaxFreq = max(blockMaxFreq, freq)
                    blockMinLength = min(blockMinLength, length)
                    if (slot - first + 1) % TextPostings.blockSize == 0 || slot + 1 == last {
                        out.blockMaxFreq[block] = blockMaxFreq
                        out.blockMinLength[block] = blockMinLength
                        block += 1
                        blockMaxFreq = 0
                        blockMinLength = .max
                    }
                }
                out.postingStart[rank + 1] = UInt32(posting)
                out.blockStart[rank + 1] = UInt32(block)
                out.maxFreq[rank] = maxFreq
                out.minLength[rank] = minLength
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
