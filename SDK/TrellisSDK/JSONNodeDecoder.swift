import Foundation
import TrellisJSON

/// Decodes a plugin's `Decodable` types from a ``JSONNode`` tree, the way
/// `JSONDecoder` does with its default strategies (keys as written, `Data`
/// as Base64, `URL` as a string, `Date` as seconds since 2001), and a `JSON`
/// field straight from the tree.
struct JSONNodeDecoder: Decoder {
    let node: JSONNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    static func decode<T: Decodable>(_ type: T.Type, from node: JSONNode) throws -> T {
        try JSONNodeDecoder(node: node, codingPath: []).value(type)
    }

    /// The node as `T`: the SDK's and Foundation's special cases first, then
    /// the type's own `init(from:)`.
    func value<T: Decodable>(_ type: T.Type) throws -> T {
        // Metatype comparisons, then a cast known to hold: no dynamic casts.
        if T.self == String.self { return unsafeBitCast(try string(), to: T.self) }
        if T.self == JSON.self { return unsafeBitCast(node.json, to: T.self) }
        if T.self == Bool.self { return unsafeBitCast(try bool(), to: T.self) }
        if T.self == Data.self {
            guard let data = Data(base64Encoded: try string()) else {
                throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "not valid Base64"))
            }
            return unsafeBitCast(data, to: T.self)
        }
        if T.self == URL.self {
            guard let url = URL(string: try string()) else {
                throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "not a valid URL"))
            }
            return unsafeBitCast(url, to: T.self)
        }
        return try T(from: self)
    }

    func mismatch(_ type: Any.Type) -> DecodingError {
        if case .null = node {
            return .valueNotFound(type, .init(codingPath: codingPath, debugDescription: "found null"))
        }
        return .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "found \(node.kind)"))
    }

    func string() throws -> String {
        guard case .string(let text) = node else { throw mismatch(String.self) }
        return text
    }

    func bool() throws -> Bool {
        guard case .bool(let flag) = node else { throw mismatch(Bool.self) }
        return flag
    }

    func floating<F: BinaryFloatingPoint & LosslessStringConvertible>(_ type: F.Type) throws -> F {
        guard case .number(let text) = node, let number = F(text) else { throw mismatch(type) }
        return number
    }

    /// An integer written as one, or as a whole number with a fraction or
    /// exponent (`3.0`, `1e3`), when it fits the type.
    func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        guard case .number(let text) = node else { throw mismatch(type) }
        if let number = I(text) { return number }
        if let number = Double(text), number.rounded() == number, let exact = I(exactly: number) { return exact }
        throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "\(text) does not fit \(type)"))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = node else { throw mismatch([String: JSON].self) }
        return KeyedDecodingContainer(Keyed<Key>(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = node else { throw mismatch([JSON].self) }
        return Unkeyed(elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(decoder: self) }
}

/// A key for array positions and `superDecoder`.
struct JSONNodeKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        stringValue = "\(intValue)"
        self.intValue = intValue
    }
    static let `super` = JSONNodeKey(stringValue: "super")
}

extension JSONNodeDecoder {
    struct Single: SingleValueDecodingContainer {
        let decoder: JSONNodeDecoder
        var codingPath: [any CodingKey] { decoder.codingPath }

        func decodeNil() -> Bool { if case .null = decoder.node { true } else { false } }
        func decode(_ type: Bool.Type) throws -> Bool { try decoder.bool() }
        func decode(_ type: String.Type) throws -> String { try decoder.string() }
        func decode(_ type: Double.Type) throws -> Double { try decoder.floating(type) }
        func decode(_ type: Float.Type) throws -> Float { try decoder.floating(type) }
        func decode(_ type: Int.Type) throws -> Int { try decoder.integer(type) }
        func decode(_ type: Int8.Type) throws -> Int8 { try decoder.integer(type) }
        func decode(_ type: Int16.Type) throws -> Int16 { try decoder.integer(type) }
        func decode(_ type: Int32.Type) throws -> Int32 { try decoder.integer(type) }
        func decode(_ type: Int64.Type) throws -> Int64 { try decoder.integer(type) }
        func decode(_ type: UInt.Type) throws -> UInt { try decoder.integer(type) }
        func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.integer(type) }
        func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.integer(type) }
        func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.integer(type) }
        func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.integer(type) }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.value(type) }
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let members: [String: JSONNode]
        let codingPath: [any CodingKey]

        var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }
        func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

        private func decoder(_ key: Key) throws -> JSONNodeDecoder {
            guard let node = members[key.stringValue] else {
                throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no member '\(key.stringValue)'"))
            }
            return JSONNodeDecoder(node: node, codingPath: codingPath + [key])
        }

        func decodeNil(forKey key: Key) throws -> Bool {
            if case .null = try decoder(key).node { true } else { false }
        }
        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decoder(key).bool() }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try decoder(key).string() }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decoder(key).floating(type) }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decoder(key).floating(type) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decoder(key).integer(type) }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decoder(key).integer(type) }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decoder(key).integer(type) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decoder(key).integer(type) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decoder(key).integer(type) }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decoder(key).integer(type) }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decoder(key).integer(type) }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decoder(key).integer(type) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decoder(key).integer(type) }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decoder(key).integer(type) }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try decoder(key).value(type) }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type,
                                                   forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            try decoder(key).container(keyedBy: type)
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try decoder(key).unkeyedContainer()
        }
        func superDecoder() throws -> any Decoder {
            JSONNodeDecoder(node: members["super"] ?? .null, codingPath: codingPath + [JSONNodeKey.super])
        }
        func superDecoder(forKey key: Key) throws -> any Decoder {
            JSONNodeDecoder(node: members[key.stringValue] ?? .null, codingPath: codingPath + [key])
        }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let elements: [JSONNode]
        let codingPath: [any CodingKey]
        var currentIndex = 0

        init(elements: [JSONNode], codingPath: [any CodingKey]) {
            self.elements = elements
            self.codingPath = codingPath
        }

        var count: Int? { elements.count }
        var isAtEnd: Bool { currentIndex >= elements.count }

        private mutating func next(_ type: Any.Type) throws -> JSONNodeDecoder {
            guard !isAtEnd else {
                throw DecodingError.valueNotFound(type, .init(codingPath: codingPath + [JSONNodeKey(intValue: currentIndex)],
                                                              debugDescription: "the array has only \(elements.count) elements"))
            }
            defer { currentIndex += 1 }
            return JSONNodeDecoder(node: elements[currentIndex], codingPath: codingPath + [JSONNodeKey(intValue: currentIndex)])
        }

        mutating func decodeNil() throws -> Bool {
            guard !isAtEnd, case .null = elements[currentIndex] else { return false }
            currentIndex += 1
            return true
        }
        mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type).bool() }
        mutating func decode(_ type: String.Type) throws -> String { try next(type).string() }
        mutating func decode(_ type: Double.Type) throws -> Double { try next(type).floating(type) }
        mutating func decode(_ type: Float.Type) throws -> Float { try next(type).floating(type) }
        mutating func decode(_ type: Int.Type) throws -> Int { try next(type).integer(type) }
        mutating func decode(_ type: Int8.Type) throws -> Int8 { try next(type).integer(type) }
        mutating func decode(_ type: Int16.Type) throws -> Int16 { try next(type).integer(type) }
        mutating func decode(_ type: Int32.Type) throws -> Int32 { try next(type).integer(type) }
        mutating func decode(_ type: Int64.Type) throws -> Int64 { try next(type).integer(type) }
        mutating func decode(_ type: UInt.Type) throws -> UInt { try next(type).integer(type) }
        mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next(type).integer(type) }
        mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next(type).integer(type) }
        mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next(type).integer(type) }
        mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next(type).integer(type) }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next(type).value(type) }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            try next([String: JSON].self).container(keyedBy: type)
        }
        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            try next([JSON].self).unkeyedContainer()
        }
        mutating func superDecoder() throws -> any Decoder { try next(JSON.self) }
    }
}
