import TrellisJSON

/// The SDK's own JSON tree, between the bytes the host passes and a
/// plugin's `Codable` types. Numbers keep their text, so an `Int64` or
/// `UInt64` field reads and writes exactly; objects are written with sorted
/// keys, so the same value gives the same bytes.
indirect enum JSONNode: Sendable {
    case null
    case bool(Bool)
    /// The number as written (a valid JSON number).
    case number(String)
    case string(String)
    case array([JSONNode])
    case object([String: JSONNode])

    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

// MARK: - JSON ⇄ node

extension JSONNode {
    init(_ value: JSON) {
        switch value {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .number(let number): self = .number(JSONNumber.text(number) ?? "null")
        case .string(let text): self = .string(text)
        case .array(let values): self = .array(values.map(JSONNode.init))
        case .object(let object): self = .object(object.mapValues(JSONNode.init))
        }
    }

    var json: JSON {
        switch self {
        case .null: .null
        case .bool(let flag): .bool(flag)
        case .number(let text): .number(Double(text) ?? 0)
        case .string(let text): .string(text)
        case .array(let values): .array(values.map(\.json))
        case .object(let object): .object(object.mapValues(\.json))
        }
    }
}

// MARK: - Writing

extension JSONNode {
    /// Compact JSON, object keys sorted, through TrellisJSON's writer (the
    /// host's): numbers go out as the text they hold.
    func write(to out: inout [UInt8]) {
        var writer = JSONWriter(capacity: 0)
        swap(&writer.bytes, &out)
        write(into: &writer)
        swap(&writer.bytes, &out)
    }

    private func write(into writer: inout JSONWriter) {
        switch self {
        case .null: writer.null()
        case .bool(let flag): writer.bool(flag)
        case .number(let text): writer.raw(Array(text.utf8))
        case .string(let text): writer.string(text)
        case .array(let values):
            writer.beginArray()
            for value in values {
                writer.separate()
                value.write(into: &writer)
            }
            writer.endArray()
        case .object(let object):
            writer.beginObject()
            for key in object.keys.sorted() {
                writer.key(key)
                object[key].unsafelyUnwrapped.write(into: &writer)
            }
            writer.endObject()
        }
    }
}

// MARK: - Reading

/// Builds ``JSONNode``s with TrellisJSON's reader: numbers keep their text.
struct JSONNodeBuilder: JSONTreeBuilder {
    func null() -> JSONNode { .null }
    func bool(_ value: Bool) -> JSONNode { .bool(value) }
    func number(_ text: String) -> JSONNode { .number(text) }
    func string(_ value: String) -> JSONNode { .string(value) }
    func array(_ elements: [JSONNode]) -> JSONNode { .array(elements) }
    func object(_ members: [String: JSONNode]) -> JSONNode { .object(members) }
}

enum JSONNodeReader {
    static func read(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONNode {
        try JSONReader.read(bytes, with: JSONNodeBuilder())
    }
}
