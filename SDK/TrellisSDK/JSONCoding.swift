import TrellisJSON

/// How the SDK turns the bytes of a call into a plugin's `Decodable` types
/// and its `Encodable` results into bytes: through its own JSON tree
/// (``JSONNode``), without Foundation's `JSONDecoder`/`JSONEncoder`, which
/// cost several times more per call. Objects are written with sorted keys.
enum PluginJSON {
    static func decode<T: Decodable>(_ type: T.Type, from bytes: UnsafeRawBufferPointer) throws -> T {
        let node: JSONNode
        do {
            node = bytes.isEmpty ? .object([:]) : try JSONNodeReader.read(bytes)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "not valid JSON: \(error)", underlyingError: error))
        }
        return try JSONNodeDecoder.decode(type, from: node)
    }

    static func encode(_ value: any Encodable) throws -> [UInt8] {
        var out: [UInt8] = []
        try JSONNodeEncoder.encode(value).write(to: &out)
        return out
    }
}
