/// A hand-written JSON writer: compact or indented, keys sorted, so the
/// same value always gives the same bytes. It is several times faster than
/// `JSONEncoder`, which matters because every run event is written as JSON.
extension JSONValue {
    public func jsonBytes(pretty: Bool = false) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(64)
        write(into: &output, pretty: pretty, indent: 0)
        return output
    }

    public func jsonString(pretty: Bool = false) -> String {
        String(decoding: jsonBytes(pretty: pretty), as: UTF8.self)
    }

    private func write(into output: inout [UInt8], pretty: Bool, indent: Int) {
        switch self {
        case .null:
            output += Array("null".utf8)
        case .bool(let value):
            output += Array((value ? "true" : "false").utf8)
        case .number(let value):
            if !value.isFinite {
                output += Array("null".utf8)
            } else if typeName == "integer" {
                output += Array(String(Int64(value)).utf8)
            } else {
                output += Array("\(value)".utf8)
            }
        case .string(let value):
            Self.writeString(value, into: &output)
        case .array(let items):
            guard !items.isEmpty else { output += [0x5B, 0x5D]; return }
            output.append(0x5B)
            for (index, item) in items.enumerated() {
                if index > 0 { output.append(0x2C) }
                if pretty { Self.newline(&output, indent + 2) }
                item.write(into: &output, pretty: pretty, indent: indent + 2)
            }
            if pretty { Self.newline(&output, indent) }
            output.append(0x5D)
        case .object(let object):
            guard !object.isEmpty else { output += [0x7B, 0x7D]; return }
            output.append(0x7B)
            for (index, key) in object.keys.sorted().enumerated() {
                if index > 0 { output.append(0x2C) }
                if pretty { Self.newline(&output, indent + 2) }
                Self.writeString(key, into: &output)
                output.append(0x3A)
                if pretty { output.append(0x20) }
                object[key]!.write(into: &output, pretty: pretty, indent: indent + 2)
            }
            if pretty { Self.newline(&output, indent) }
            output.append(0x7D)
        }
    }

    private static func newline(_ output: inout [UInt8], _ indent: Int) {
        output.append(0x0A)
        output += repeatElement(0x20, count: indent)
    }

    private static let hex = Array("0123456789abcdef".utf8)

    private static func writeString(_ string: String, into output: inout [UInt8]) {
        output.append(0x22)
        for byte in string.utf8 {
            switch byte {
            case 0x22: output += [0x5C, 0x22]
            case 0x5C: output += [0x5C, 0x5C]
            case 0x0A: output += [0x5C, 0x6E]
            case 0x0D: output += [0x5C, 0x72]
            case 0x09: output += [0x5C, 0x74]
            case 0x00..<0x20:
                output += [0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: output.append(byte)
            }
        }
        output.append(0x22)
    }
}
