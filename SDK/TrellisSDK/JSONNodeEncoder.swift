import Foundation
import TrellisJSON

/// Encodes a plugin's `Encodable` values into a ``JSONNode`` tree, the way
/// `JSONEncoder` does with its default strategies (`Data` as Base64, `URL`
/// as a string, `Date` as seconds since 2001); a `JSON` value goes in as it is.
struct JSONNodeEncoder: Encoder {
    /// Where an encoded value goes; containers hand out slots for their
    /// members, which are filled in later (the `Encoder` protocol's shape).
    final class Slot {
        var node: JSONNode?
        var members: [String: Slot]?
        var elements: [Slot]?

        var result: JSONNode {
            if let members { return .object(members.mapValues(\.result)) }
            if let elements { return .array(elements.map(\.result)) }
            return node ?? .object([:])
        }
    }

    let slot: Slot
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    static func encode(_ value: any Encodable) throws -> JSONNode {
        let slot = Slot()
        try JSONNodeEncoder(slot: slot, codingPath: []).put(value)
        return slot.result
    }

    /// Puts a value in this encoder's slot: the special cases first, then
    /// the value's own `encode(to:)`.
    func put<T: Encodable>(_ value: T) throws {
        // Metatype comparisons, then a cast known to hold: no dynamic casts.
        if T.self == String.self { slot.node = .string(unsafeBitCast(value, to: String.self)) }
        else if T.self == JSON.self { slot.node = JSONNode(unsafeBitCast(value, to: JSON.self)) }
        else if T.self == Bool.self { slot.node = .bool(unsafeBitCast(value, to: Bool.self)) }
        else if T.self == Data.self { slot.node = .string(unsafeBitCast(value, to: Data.self).base64EncodedString()) }
        else if T.self == URL.self { slot.node = .string(unsafeBitCast(value, to: URL.self).absoluteString) }
        else { try value.encode(to: self) }
    }

    func number<F: BinaryFloatingPoint>(_ value: F) throws -> JSONNode {
        guard let text = JSONNumber.text(Double(value)) else {
            throw EncodingError.invalidValue(value, .init(codingPath: codingPath, debugDescription: "\(value) is not a JSON number"))
        }
        return .number(text)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if slot.members == nil { slot.members = [:] }
        return KeyedEncodingContainer(Keyed<Key>(slot: slot, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if slot.elements == nil { slot.elements = [] }
        return Unkeyed(slot: slot, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { Single(encoder: self) }
}

extension JSONNodeEncoder {
    struct Single: SingleValueEncodingContainer {
        let encoder: JSONNodeEncoder
        var codingPath: [any CodingKey] { encoder.codingPath }

        private func set(_ node: JSONNode) { encoder.slot.node = node }

        mutating func encodeNil() throws { set(.null) }
        mutating func encode(_ value: Bool) throws { set(.bool(value)) }
        mutating func encode(_ value: String) throws { set(.string(value)) }
        mutating func encode(_ value: Double) throws { set(try encoder.number(value)) }
        mutating func encode(_ value: Float) throws { set(try encoder.number(value)) }
        mutating func encode(_ value: Int) throws { set(.number(String(value))) }
        mutating func encode(_ value: Int8) throws { set(.number(String(value))) }
        mutating func encode(_ value: Int16) throws { set(.number(String(value))) }
        mutating func encode(_ value: Int32) throws { set(.number(String(value))) }
        mutating func encode(_ value: Int64) throws { set(.number(String(value))) }
        mutating func encode(_ value: UInt) throws { set(.number(String(value))) }
        mutating func encode(_ value: UInt8) throws { set(.number(String(value))) }
        mutating func encode(_ value: UInt16) throws { set(.number(String(value))) }
        mutating func encode(_ value: UInt32) throws { set(.number(String(value))) }
        mutating func encode(_ value: UInt64) throws { set(.number(String(value))) }
        mutating func encode<T: Encodable>(_ value: T) throws { try encoder.put(value) }
    }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let slot: Slot
        let codingPath: [any CodingKey]

        /// The encoder for a member's (new) slot.
        private func member(_ key: any CodingKey) -> JSONNodeEncoder {
            let child = Slot()
            slot.members?[key.stringValue] = child
            return JSONNodeEncoder(slot: child, codingPath: codingPath + [key])
        }

        private func set(_ node: JSONNode, _ key: Key) {
            let child = Slot()
            child.node = node
            slot.members?[key.stringValue] = child
        }

        mutating func encodeNil(forKey key: Key) throws { set(.null, key) }
        mutating func encode(_ value: Bool, forKey key: Key) throws { set(.bool(value), key) }
        mutating func encode(_ value: String, forKey key: Key) throws { set(.string(value), key) }
        mutating func encode(_ value: Double, forKey key: Key) throws { let target = member(key); target.slot.node = try target.number(value) }
        mutating func encode(_ value: Float, forKey key: Key) throws { let target = member(key); target.slot.node = try target.number(value) }
        mutating func encode(_ value: Int, forKey key: Key) throws { set(.number(String(value)), key) }
        mutating func encode(_ value: Int8, forKey key: Key) throws { set(.number(String(value)), key) }
        mutating func encode(_ value: Int16, forKey key: Key) throws { set(.number(String(value)), key) }
        mutating func encode(_ value: Int32, forKey key: Key) throws { set(.number(String(value)), key) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { set(.number(String(value)), key) }
        mutating func encode(_ value: UInt, forKey key: Key) throws { set(.number(String(value)), key) }
        mutating func encode(_ value: UInt8, forKey key: Key) throws { set(.number(String(value)), key) }
        mutating func encode(_ value: UInt16, forKey key: Key) throws { set(.number(String(value)), key) }
        mutating func encode(_ value: UInt32, forKey key: Key) throws { set(.number(String(value)), key) }
        mutating func encode(_ value: UInt64, forKey key: Key) throws { set(.number(String(value)), key) }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try member(key).put(value) }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type,
                                                            forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            member(key).container(keyedBy: keyType)
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            member(key).unkeyedContainer()
        }
        mutating func superEncoder() -> any Encoder { member(JSONNodeKey.super) }
        mutating func superEncoder(forKey key: Key) -> any Encoder { member(key) }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        let slot: Slot
        let codingPath: [any CodingKey]
        var count: Int { slot.elements?.count ?? 0 }

        private func element() -> JSONNodeEncoder {
            let child = Slot()
            let path = codingPath + [JSONNodeKey(intValue: count)]
            slot.elements?.append(child)
            return JSONNodeEncoder(slot: child, codingPath: path)
        }

        private func append(_ node: JSONNode) { element().slot.node = node }

        mutating func encodeNil() throws { append(.null) }
        mutating func encode(_ value: Bool) throws { append(.bool(value)) }
        mutating func encode(_ value: String) throws { append(.string(value)) }
        mutating func encode(_ value: Double) throws { let target = element(); target.slot.node = try target.number(value) }
        mutating func encode(_ value: Float) throws { let target = element(); target.slot.node = try target.number(value) }
        mutating func encode(_ value: Int) throws { append(.number(String(value))) }
        mutating func encode(_ value: Int8) throws { append(.number(String(value))) }
        mutating func encode(_ value: Int16) throws { append(.number(String(value))) }
        mutating func encode(_ value: Int32) throws { append(.number(String(value))) }
        mutating func encode(_ value: Int64) throws { append(.number(String(value))) }
        mutating func encode(_ value: UInt) throws { append(.number(String(value))) }
        mutating func encode(_ value: UInt8) throws { append(.number(String(value))) }
        mutating func encode(_ value: UInt16) throws { append(.number(String(value))) }
        mutating func encode(_ value: UInt32) throws { append(.number(String(value))) }
        mutating func encode(_ value: UInt64) throws { append(.number(String(value))) }
        mutating func encode<T: Encodable>(_ value: T) throws { try element().put(value) }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            element().container(keyedBy: keyType)
        }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { element().unkeyedContainer() }
        mutating func superEncoder() -> any Encoder { element() }
    }
}
