/// Appends JSON text to a byte buffer. `JSONValue.jsonBytes` writes through
/// it, and so do the hot paths that know their fields (run events, step
/// projections), which write objects without building a `JSONValue` first.
///
/// Keys are written in the order given; callers that promise sorted keys
/// (as `jsonBytes` does) list them sorted. A separator is added before a key
/// or an element unless it is the first in its object or array.
public struct JSONWriter {
    public var bytes: [UInt8]

    public init(capacity: Int = 128) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func beginObject() { bytes.append(UInt8(ascii: "{")) }
    public mutating func endObject() { bytes.append(UInt8(ascii: "}")) }
    public mutating func beginArray() { bytes.append(UInt8(ascii: "[")) }
    public mutating func endArray() { bytes.append(UInt8(ascii: "]")) }

    /// Starts a member: a comma if one came before, the key and a colon.
    public mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// A key that is not known at compile time (escaped as any string).
    public mutating func key(_ name: String) {
        separate()
        string(name)
        bytes.append(UInt8(ascii: ":"))
    }

    /// Before an array element: a comma unless it is the first.
    public mutating func separate() {
        guard let last = bytes.last, last != UInt8(ascii: "{"), last != UInt8(ascii: "["),
              last != UInt8(ascii: ":") else { return }
        bytes.append(UInt8(ascii: ","))
    }

    public mutating func null() { bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C]) }

    public mutating func bool(_ value: Bool) {
        if value {
            bytes.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
        } else {
            bytes.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
        }
    }

    /// A number by ``JSONNumber``'s rule: whole values below 2^53 as
    /// integers, others in Swift's shortest round-trip form, non-finite ones
    /// as `null`.
    public mutating func number(_ value: Double) {
        if !value.isFinite {
            null()
        } else if JSONNumber.isInteger(value) {
            integer(Int64(value))
        } else {
            bytes.append(contentsOf: "\(value)".utf8)
        }
    }

    public mutating func integer(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        guard magnitude >= 10 else {
            bytes.append(UInt8(ascii: "0") + UInt8(magnitude))
            return
        }
        var digits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)   // 32 bytes: room for 20 digits
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[31 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
            bytes.append(contentsOf: buffer[(32 - count)...])
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    public mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var start = 0
            for index in utf8.indices {
                let byte = utf8[index]
                guard byte < 0x20 || byte == 0x22 || byte == 0x5C else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                start = index + 1
                switch byte {
                case 0x22: bytes.append(contentsOf: [0x5C, 0x22])
                case 0x5C: bytes.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: bytes.append(contentsOf: [0x5C, 0x6E])
                case 0x0D: bytes.append(contentsOf: [0x5C, 0x72])
                case 0x09: bytes.append(contentsOf: [0x5C, 0x74])
                default:
                    bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, Self.hex[Int(byte >> 4)], Self.hex[Int(byte & 0xF)]])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Bytes that are already JSON (a value written earlier).
    public mutating func raw(_ json: [UInt8]) { bytes.append(contentsOf: json) }

    /// Any value, object keys sorted, so the same value always gives the same bytes.
    public mutating func value(_ value: JSONValue, pretty: Bool = false, indent: Int = 0) {
        switch value {
        case .null: null()
        case .bool(let flag): bool(flag)
        case .number(let number): self.number(number)
        case .string(let text): string(text)
        case .array(let items):
            beginArray()
            for item in items {
                separate()
                if pretty { newline(indent + 2) }
                self.value(item, pretty: pretty, indent: indent + 2)
            }
            if pretty && !items.isEmpty { newline(indent) }
            endArray()
        case .object(let object):
            beginObject()
            let keys = object.count > 1 ? object.keys.sorted() : Array(object.keys)
            for name in keys {
                if pretty {
                    separate()
                    newline(indent + 2)
                    string(name)
                    bytes.append(contentsOf: [UInt8(ascii: ":"), UInt8(ascii: " ")])
                } else {
                    key(name)
                }
                self.value(object[name]!, pretty: pretty, indent: indent + 2)
            }
            if pretty && !object.isEmpty { newline(indent) }
            endObject()
        }
    }

    private mutating func newline(_ indent: Int) {
        bytes.append(0x0A)
        bytes.append(contentsOf: repeatElement(0x20, count: indent))
    }
}
