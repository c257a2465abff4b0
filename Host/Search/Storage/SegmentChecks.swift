import Crypto

/// Reading a segment file's bytes as the engine does, for the fuzz target
/// (Tests/Fuzz/Search): `decode` behind a valid checksum, so that what the
/// checksum would catch is not all that is tried.
public enum SegmentChecks {
    /// Decodes `body` with its checksum appended; returns whether it was accepted.
    /// A refusal is an answer; a crash or a hang is the failure the fuzzer looks for.
    @discardableResult
    public static func decode(body: [UInt8]) -> Bool {
        let bytes = body + Array(SHA256.hash(data: body))
        return (try? Segment.decode(bytes, name: "fuzz.seg")) != nil
    }

    /// A small valid segment's bytes without their checksum: a seed for the fuzzer.
    public static func sampleBody() -> [UInt8] {
        let schema = SearchSchema(fields: [.init(name: "body", type: .text), .init(name: "tag", type: .keyword),
                                           .init(name: "n", type: .number)])
        var builder = SegmentBuilder(schema: schema)
        let terms = ChunkTerms()
        for (number, words) in ["alpha beta", "beta gamma gamma"].enumerated() {
            var document = PreparedDocument(id: "d\(number)", source: Array("{\"id\":\"d\(number)\"}".utf8))
            document.text["body"] = FieldTokens(terms: terms, tokens: words.split(separator: " ").enumerated().map { position, word in
                .init(term: String(word), position: position, bytes: 0..<word.utf8.count)
            })
            document.keywords["tag"] = ["t\(number)"]
            document.numbers["n"] = Double(number)
            builder.add(document)
        }
        let bytes = builder.build(name: "seed.seg").encoded()
        return Array(bytes.dropLast(32))
    }
}
