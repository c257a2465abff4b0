/// A value as JSON text: compact or indented, keys sorted, so the same value
/// always gives the same bytes (``JSONWriter`` writes it).
extension JSONValue {
    public func jsonBytes(pretty: Bool = false) -> [UInt8] {
        var writer = JSONWriter(capacity: 64)
        writer.value(self, pretty: pretty)
        return writer.bytes
    }

    public func jsonString(pretty: Bool = false) -> String {
        String(decoding: jsonBytes(pretty: pretty), as: UTF8.self)
    }
}
