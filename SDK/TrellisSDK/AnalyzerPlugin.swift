import TrellisJSON

/// A plugin that splits text into search terms (`trellis.analyzer/1`).
/// This is the search engine's hot path: no JSON, no allocation per token
/// unless the plugin makes one.
public protocol AnalyzerPlugin: TrellisPlugin {
    /// Emits the tokens of `text` (UTF-8 bytes) into `sink`, in order.
    func tokenize(_ text: UnsafeBufferPointer<UInt8>, into sink: inout TokenSink) throws
}

/// Receives tokens during one `tokenize` call.
public struct TokenSink {
    let emitBytes: (UnsafeBufferPointer<UInt8>, UInt32, UInt32, UInt32) -> Bool
    /// False once the host asked to stop; further tokens are ignored.
    public private(set) var wantsMore = true

    init(emitBytes: @escaping (UnsafeBufferPointer<UInt8>, UInt32, UInt32, UInt32) -> Bool) {
        self.emitBytes = emitBytes
    }

    /// Emits one token: its term, position, and byte range in the input.
    /// Returns false when the host wants no more tokens.
    @discardableResult
    public mutating func emit(_ term: UnsafeBufferPointer<UInt8>, position: Int, bytes: Range<Int>) -> Bool {
        guard wantsMore else { return false }
        wantsMore = emitBytes(term, UInt32(position), UInt32(bytes.lowerBound), UInt32(bytes.upperBound))
        return wantsMore
    }

    /// Emits one token given as a string.
    @discardableResult
    public mutating func emit(_ term: String, position: Int, bytes: Range<Int>) -> Bool {
        var term = term
        return term.withUTF8 { emit($0, position: position, bytes: bytes) }
    }
}
