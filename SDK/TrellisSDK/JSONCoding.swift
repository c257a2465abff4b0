import Foundation

/// The SDK's JSON coding. Keys are taken as written: a type whose Swift
/// names differ from its snake_case wire names declares `CodingKeys`.
enum PluginJSON {
    static func decode<T: Decodable>(_ type: T.Type, from bytes: UnsafeRawBufferPointer) throws -> T {
        let data = bytes.isEmpty ? Data("{}".utf8) : Data(bytes)
        let decoder = JSONDecoder()
        return try decoder.decode(T.self, from: data)
    }

    static func encode(_ value: any Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }
}
