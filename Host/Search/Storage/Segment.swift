import Crypto
import Foundation

/// The postings of one text field in one segment: a sorted term
/// dictionary; per term its documents (ascending), term frequencies, and
/// per posting its positions with the byte range of each.
struct TextPostings: Sendable {
    var terms = ByteTable()
    /// Per term, where its postings start in `docs`/`freqs` (one more entry at the end).
    var postingStart: [UInt32] = [0]
    var docs: [UInt32] = []
    var freqs: [UInt32] = []
    /// Per posting, where its positions start in `positions` (one more entry at the end).
    var positionStart: [UInt32] = [0]
    var positions: [UInt32] = []
    var startBytes: [UInt32] = []
    var endBytes: [UInt32] = []
    /// Per term: its largest frequency and the shortest field among its
    /// documents, which bound its BM25 score from above.
    var maxFreq: [UInt32] = []
    var minLength: [UInt32] = []
    /// Per block of `blockSize` postings of a term (blocks numbered from the
    /// term's first posting): the same two bounds.
    var blockStart: [UInt32] = [0]
    var blockMaxFreq: [UInt32] = []
    var blockMinLength: [UInt32] = []
    /// Per document: the field's length in tokens.
    var lengths: [UInt32] = []
    var totalLength: UInt64 = 0

    static let blockSize = 64

    func postings(of term: Int) -> Range<Int> { Int(postingStart[term])..<Int(postingStart[term + 1]) }
    func docFreq(_ term: Int) -> Int { Int(postingStart[term + 1] - postingStart[term]) }
}

/// The values of a keyword field: a sorted dictionary of values, the
/// documents of each (for filters and exact terms), and each document's
/// values (for facets and sorting).
struct KeywordValues: Sendable {
    var values = ByteTable()
    var postingStart: [UInt32] = [0]
    var docs: [UInt32] = []
    /// Per document, where its value ordinals start in `ordinals`.
    var docStart: [UInt32] = [0]
    var ordinals: [UInt32] = []

    func docs(of value: Int) -> ArraySlice<UInt32> { docs[Int(postingStart[value])..<Int(postingStart[value + 1])] }
    func ordinals(of doc: Int) -> ArraySlice<UInt32> { ordinals[Int(docStart[doc])..<Int(docStart[doc + 1])] }
}

/// An immutable part of an index: documents 0..<count with what queries
/// read of them. A commit writes new segments; nothing changes one after.
final class Segment: Sendable {
    let name: String
    let ids: ByteTable
    /// Each document as it was indexed (JSON), for stored fields and re-indexing.
    let sources: ByteTable
    let text: [String: TextPostings]
    let keywords: [String: KeywordValues]
    /// Number and date fields: one value per document, NaN when missing.
    let numbers: [String: [Double]]

    var count: Int { ids.count }

    init(name: String, ids: ByteTable, sources: ByteTable, text: [String: TextPostings], keywords: [String: KeywordValues],
         numbers: [String: [Double]]) {
        self.name = name
        self.ids = ids
        self.sources = sources
        self.text = text
        self.keywords = keywords
        self.numbers = numbers
    }

    static let magic: UInt32 = 0x4753_5254  // "TRSG"
    static let formatVersion: UInt32 = 1

    /// The file's bytes: a header, the sections, and a SHA-256 of all before it.
    func encoded() -> [UInt8] {
        var writer = BinaryWriter()
        writer.write(Self.magic)
        writer.write(Self.formatVersion)
        writer.write(ids)
        writer.write(sources)
        writer.write(UInt32(text.count))
        for (field, postings) in text.sorted(by: { $0.key < $1.key }) {
            writer.write(field)
            writer.write(postings.terms)
            for array in [postings.postingStart, postings.docs, postings.freqs, postings.positionStart, postings.positions,
                          postings.startBytes, postings.endBytes, postings.maxFreq, postings.minLength, postings.blockStart,
                          postings.blockMaxFreq, postings.blockMinLength, postings.lengths] {
                writer.write(array)
            }
            writer.write(postings.totalLength)
        }
        writer.write(UInt32(keywords.count))
        for (field, values) in keywords.sorted(by: { $0.key < $1.key }) {
            writer.write(field)
            writer.write(values.values)
            for array in [values.postingStart, values.docs, values.docStart, values.ordinals] { writer.write(array) }
        }
        writer.write(UInt32(numbers.count))
        for (field, values) in numbers.sorted(by: { $0.key < $1.key }) {
            writer.write(field)
            writer.write(values)
        }
        writer.bytes.append(contentsOf: SHA256.hash(data: writer.bytes))
        return writer.bytes
    }

    /// Reads a segment file, refusing one that is cut, changed or inconsistent.
    static func decode(_ bytes: [UInt8], name: String) throws(SearchError) -> Segment {
        guard bytes.count > 40 else { throw .damaged("segment \(name) is \(bytes.count) bytes, too short to be one") }
        let body = bytes[0..<(bytes.count - 32)]
        guard SHA256.hash(data: body).elementsEqual(bytes[(bytes.count - 32)...]) else {
            throw .damaged("segment \(name) does not match its checksum (cut short or changed)")
        }
        var reader = BinaryReader(Array(body))
        guard try reader.uint32() == magic else { throw .damaged("\(name) is not a segment file") }
        let version = try reader.uint32()
        guard version == formatVersion else {
            throw .damaged("segment \(name) is in format \(version), and this Trellis reads format \(formatVersion)")
        }
        let ids = try reader.table()
        let sources = try reader.table()
        guard sources.count == ids.count else { throw .damaged("segment \(name) has \(ids.count) ids and \(sources.count) documents") }
        var text: [String: TextPostings] = [:]
        for _ in 0..<(try reader.uint32()) {
            let field = try reader.string()
            var postings = TextPostings()
            postings.terms = try reader.table()
            postings.postingStart = try reader.uint32s()
            postings.docs = try reader.uint32s()
            postings.freqs = try reader.uint32s()
            postings.positionStart = try reader.uint32s()
            postings.positions = try reader.uint32s()
            postings.startBytes = try reader.uint32s()
            postings.endBytes = try reader.uint32s()
            postings.maxFreq = try reader.uint32s()
            postings.minLength = try reader.uint32s()
            postings.blockStart = try reader.uint32s()
            postings.blockMaxFreq = try reader.uint32s()
            postings.blockMinLength = try reader.uint32s()
            postings.lengths = try reader.uint32s()
            postings.totalLength = try reader.uint64()
            try check(postings, documents: ids.count, segment: name, field: field)
            text[field] = postings
        }
        var keywords: [String: KeywordValues] = [:]
        for _ in 0..<(try reader.uint32()) {
            let field = try reader.string()
            var values = KeywordValues()
            values.values = try reader.table()
            values.postingStart = try reader.uint32s()
            values.docs = try reader.uint32s()
            values.docStart = try reader.uint32s()
            values.ordinals = try reader.uint32s()
            guard values.postingStart.count == values.values.count + 1, values.postingStart.last.map(Int.init) == values.docs.count,
                  values.docStart.count == ids.count + 1, values.docStart.last.map(Int.init) == values.ordinals.count,
                  values.docs.allSatisfy({ Int($0) < ids.count }), values.ordinals.allSatisfy({ Int($0) < values.values.count }) else {
                throw .damaged("segment \(name), field \(field): its keyword tables do not agree")
            }
            keywords[field] = values
        }
        var numbers: [String: [Double]] = [:]
        for _ in 0..<(try reader.uint32()) {
            let field = try reader.string()
            let values = try reader.doubles()
            guard values.count == ids.count else { throw .damaged("segment \(name), field \(field): \(values.count) values for \(ids.count) documents") }
            numbers[field] = values
        }
        return Segment(name: name, ids: ids, sources: sources, text: text, keywords: keywords, numbers: numbers)
    }

    /// Every index a query follows lies inside its array.
    private static func check(_ p: TextPostings, documents: Int, segment: String, field: String) throws(SearchError) {
        let terms = p.terms.count
        let postings = p.docs.count
        func monotone(_ array: [UInt32], ending: Int) -> Bool {
            var previous: UInt32 = 0
            for value in array {
                if value < previous { return false }
                previous = value
            }
            return array.first == 0 && array.last.map(Int.init) == ending
        }
        guard p.postingStart.count == terms + 1, monotone(p.postingStart, ending: postings), p.freqs.count == postings,
              p.positionStart.count == postings + 1, monotone(p.positionStart, ending: p.positions.count),
              p.startBytes.count == p.positions.count, p.endBytes.count == p.positions.count,
              p.maxFreq.count == terms, p.minLength.count == terms, p.blockStart.count == terms + 1,
              monotone(p.blockStart, ending: p.blockMaxFreq.count), p.blockMinLength.count == p.blockMaxFreq.count,
              p.lengths.count == documents, p.docs.allSatisfy({ Int($0) < documents }) else {
            throw .damaged("segment \(segment), field \(field): its postings tables do not agree")
        }
        let block = TextPostings.blockSize
        for term in 0..<terms {
            let blocks = (p.docFreq(term) + block - 1) / block
            guard Int(p.blockStart[term + 1] - p.blockStart[term]) == blocks else {
                throw .damaged("segment \(segment), field \(field): term \(term)'s score blocks do not match its postings")
            }
        }
    }
}
