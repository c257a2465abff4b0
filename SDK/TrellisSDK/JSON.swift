import TrellisJSON

/// Any JSON value, decoded and encoded as it came (keys kept as written):
/// for messages and outputs whose shape the plugin does not fix. It is
/// TrellisJSON's ``JSONValue``, the same type the host reads and writes.
public typealias JSON = JSONValue

extension JSONValue {
    /// The value as compact JSON text with sorted keys: the same bytes for
    /// the same value (what a signature is computed over).
    public var serialized: [UInt8] { jsonBytes() }

    /// The string, when this is one.
    public var string: String? { stringValue }
}
