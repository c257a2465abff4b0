import TrellisJSON

/// A plugin that splits text into search terms (`trellis.analyzer/1`).
/// This is the search engine's hot path: no JSON, no allocation per token
/// unless the plugin makes one.
///
/// An analyzer is the first link of a field's analyzer chain (it
/// tokenizes), or a later one (it filters the tokens the links before it
/// made), or both: set `isTokenFilter` and implement `filter`.
public protocol AnalyzerPlugin: TrellisPlugin {
    /// Emits the tokens of `text` (UTF-8 bytes) into `sink`, in order.
    func tokenize(_ text: UnsafeBufferPointer<UInt8>, into sink: inout TokenSink) throws

    /// Whether the plugin is also a token filter (ABI 1.4). Default: false.
    static var isTokenFilter: Bool { get }

    /// Emits the tokens it keeps, changes or adds of `tokens` (what the chain
    /// made of `text` so far) into `sink`, in order; positions never
    /// decrease and byte ranges still refer to `text`.
    func filter(_ tokens: InputTokens, text: UnsafeBufferPointer<UInt8>, into sink: inout TokenSink) throws
}

extension AnalyzerPlugin {
    public static var isTokenFilter: Bool { false }

    public func filter(_ tokens: InputTokens, text: UnsafeBufferPointer<UInt8>, into sink: inout TokenSink) throws {
        throw PluginError.config("\(Self.id) is not a token filter: put it first in the analyzer chain")
    }
}

/// Receives tokens during one `tokenize` or `filter` call.
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

    /// Passes a token on unchanged.
    @discardableResult
    public mutating func emit(_ token: InputToken) -> Bool {
        emit(token.term, position: token.position, bytes: token.bytes)
    }
}

/// One token a filter receives; its term is borrowed for the call.
public struct InputToken {
    public let term: UnsafeBufferPointer<UInt8>
    public let position: Int
    public let bytes: Range<Int>
}

/// The tokens a filter receives, borrowed for the call.
public struct InputTokens: RandomAccessCollection {
    let terms: [UnsafeBufferPointer<UInt8>]
    let positions: [Int]
    let ranges: [Range<Int>]

    init(terms: [UnsafeBufferPointer<UInt8>], positions: [Int], ranges: [Range<Int>]) {
        self.terms = terms
        self.positions = positions
        self.ranges = ranges
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { terms.count }
    public subscript(index: Int) -> InputToken {
        InputToken(term: terms[index], position: positions[index], bytes: ranges[index])
    }
}
