import TrellisSDK

/// Writes terms given as scalars into a token sink as UTF-8, reusing one buffer.
public struct ScalarEmitter {
    var buffer: [UInt8] = []

    public init() {}

    /// Emits one token; false when the host wants no more.
    public mutating func emit(_ scalars: [UInt32], position: Int, bytes: Range<Int>, into sink: inout TokenSink) -> Bool {
        buffer.removeAll(keepingCapacity: true)
        for scalar in scalars {
            guard let value = Unicode.Scalar(scalar) else { continue }
            UTF8.encode(value) { buffer.append($0) }
        }
        return buffer.withUnsafeBufferPointer { sink.emit($0, position: position, bytes: bytes) }
    }
}
