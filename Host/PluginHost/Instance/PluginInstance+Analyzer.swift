import CTrellisABI
import TrellisJSON

/// One token from an analyzer.
public struct AnalyzedToken: Sendable, Hashable {
    public var term: String
    public var position: Int
    /// Byte range in the analyzed UTF-8 text.
    public var bytes: Range<Int>

    public init(term: String, position: Int, bytes: Range<Int>) {
        self.term = term
        self.position = position
        self.bytes = bytes
    }
}

/// A token as the analyzer hands it over: the term is borrowed and valid only
/// inside the callback (the search engine copies what it keeps).
public struct BorrowedToken {
    public let term: UnsafeRawBufferPointer
    public let position: Int
    public let bytes: Range<Int>
}

extension PluginInstance {
    private var analyzerTokenize: trellis_analyzer_v1_t.TokenizeFunction? {
        table(.analyzer, as: trellis_analyzer_v1_t.self)?.pointee.tokenize
    }

    /// Streams the tokens of `text` to `body`, which returns false to stop.
    /// This is the search engine's hot path: no JSON and no copies.
    public func tokenize(_ text: String, _ body: (BorrowedToken) -> Bool) throws(PluginCallError) {
        guard let tokenize = analyzerTokenize else {
            throw PluginCallError(.config, "\(info.id) is a \(info.kind) plugin, not an analyzer", pluginID: info.id)
        }
        let raw = self.raw
        let (status, reply) = serialized {
            withABIString(text) { abiText in
                withoutActuallyEscaping(body) { body in
                    var handler = body
                    return withUnsafeMutablePointer(to: &handler) { handlerPointer in
                        withReply { reply in
                            tokenize(raw, abiText, UnsafeMutableRawPointer(handlerPointer), { data, token in
                                guard let data, let token else { return 1 }
                                let handler = data.assumingMemoryBound(to: ((BorrowedToken) -> Bool).self).pointee
                                let term = token.pointee.term
                                let borrowed = BorrowedToken(
                                    term: UnsafeRawBufferPointer(start: term.ptr, count: term.len),
                                    position: Int(token.pointee.position),
                                    bytes: Int(token.pointee.start_byte)..<Int(token.pointee.end_byte))
                                return handler(borrowed) ? 0 : 1
                            }, reply)
                        }
                    }
                }
            }
        }
        if status != TRELLIS_OK { throw failure(status, reply) }
    }

    /// All tokens of `text`, copied.
    public func tokens(of text: String) throws(PluginCallError) -> [AnalyzedToken] {
        var tokens: [AnalyzedToken] = []
        try tokenize(text) { token in
            tokens.append(AnalyzedToken(term: String(decoding: token.term, as: UTF8.self), position: token.position,
                                        bytes: token.bytes))
            return true
        }
        return tokens
    }
}

extension PluginInstance {
    /// A function of the analyzer's table, read only as far as the plugin's
    /// table reaches (a table from before 1.4 ends after `tokenize`).
    private func analyzerFunction<F>(_ field: KeyPath<trellis_analyzer_v1_t, F?>) -> F? {
        guard let table = table(.analyzer, as: trellis_analyzer_v1_t.self), has(field, in: table.pointee.struct_size),
              let offset = MemoryLayout<trellis_analyzer_v1_t>.offset(of: field) else { return nil }
        return UnsafeRawPointer(table).load(fromByteOffset: offset, as: F?.self)
    }

    /// Whether the analyzer is also a token filter (ABI 1.4).
    public var isTokenFilter: Bool { analyzerFunction(\.filter) != nil }

    /// Whether the analyzer tokenizes many texts in one call (ABI 1.4).
    public var tokenizesInBatches: Bool { analyzerFunction(\.tokenize_batch) != nil }

    /// Passes `tokens` (what a chain made of `text` so far) through the
    /// analyzer's filter, streaming what it emits to `body`.
    public func filter(_ text: String, tokens: [AnalyzedToken], _ body: (BorrowedToken) -> Bool) throws(PluginCallError) {
        guard let filter = analyzerFunction(\.filter) else {
            throw PluginCallError(.config, "\(info.id) is not a token filter: it can only be first in an analyzer chain", pluginID: info.id)
        }
        // The terms, laid end to end in one buffer the tokens point into.
        var storage: [UInt8] = []
        storage.reserveCapacity(tokens.reduce(0) { $0 + $1.term.utf8.count })
        var spans: [Range<Int>] = []
        spans.reserveCapacity(tokens.count)
        for token in tokens {
            let start = storage.count
            storage.append(contentsOf: token.term.utf8)
            spans.append(start..<storage.count)
        }
        let raw = self.raw
        let (status, reply) = storage.withUnsafeBufferPointer { bytes in
            let base = bytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }
            var abiTokens = zip(tokens, spans).map { token, span in
                trellis_token_t(term: trellis_str_t(ptr: base.map { $0 + span.lowerBound }, len: span.count),
                                position: UInt32(clamping: token.position), start_byte: UInt32(clamping: token.bytes.lowerBound),
                                end_byte: UInt32(clamping: token.bytes.upperBound))
            }
            return abiTokens.withUnsafeMutableBufferPointer { abiTokens in
                serialized {
                    withABIString(text) { abiText in
                        withTokenHandler(body) { handler, onToken in
                            withReply { reply in
                                filter(raw, abiText, UnsafePointer(abiTokens.baseAddress), abiTokens.count, handler, onToken, reply)
                            }
                        }
                    }
                }
            }
        }
        if status != TRELLIS_OK { throw failure(status, reply) }
    }

    /// Streams the tokens of every text in `texts` to `body` with the
    /// text's index, in one call where the analyzer offers `tokenize_batch`
    /// and one call per text otherwise. `body` returns false to stop.
    public func tokenizeBatch(_ texts: [String], _ body: (Int, BorrowedToken) -> Bool) throws(PluginCallError) {
        guard let batch = analyzerFunction(\.tokenize_batch) else {
            for (index, text) in texts.enumerated() {
                var more = true
                try tokenize(text) { token in
                    more = body(index, token)
                    return more
                }
                if !more { return }
            }
            return
        }
        let raw = self.raw
        let (status, reply) = withABIStrings(texts) { abiTexts in
            serialized {
                withoutActuallyEscaping(body) { body in
                    var handler = body
                    return withUnsafeMutablePointer(to: &handler) { handlerPointer in
                        withReply { reply in
                            batch(raw, abiTexts.baseAddress, abiTexts.count, UnsafeMutableRawPointer(handlerPointer), { data, index, token in
                                guard let data, let token else { return 1 }
                                let handler = data.assumingMemoryBound(to: ((Int, BorrowedToken) -> Bool).self).pointee
                                return handler(Int(index), BorrowedToken(token.pointee)) ? 0 : 1
                            }, reply)
                        }
                    }
                }
            }
        }
        if status != TRELLIS_OK { throw failure(status, reply) }
    }
}

extension BorrowedToken {
    init(_ token: trellis_token_t) {
        self.init(term: UnsafeRawBufferPointer(start: token.term.ptr, count: token.term.len), position: Int(token.position),
                  bytes: Int(token.start_byte)..<Int(max(token.start_byte, token.end_byte)))
    }
}

/// Calls `body` with `handler` as the C callback's host data and the
/// callback that forwards each token to it.
private func withTokenHandler<R>(_ handler: (BorrowedToken) -> Bool,
                                 _ body: (UnsafeMutableRawPointer, trellis_token_fn) -> R) -> R {
    withoutActuallyEscaping(handler) { handler in
        var handler = handler
        return withUnsafeMutablePointer(to: &handler) { pointer in
            body(UnsafeMutableRawPointer(pointer), { data, token in
                guard let data, let token else { return 1 }
                let handler = data.assumingMemoryBound(to: ((BorrowedToken) -> Bool).self).pointee
                return handler(BorrowedToken(token.pointee)) ? 0 : 1
            })
        }
    }
}

/// Calls `body` with the texts as ABI strings, pointing into one buffer
/// that holds them end to end.
private func withABIStrings<R>(_ texts: [String], _ body: (UnsafeBufferPointer<trellis_str_t>) -> R) -> R {
    var storage: [UInt8] = []
    storage.reserveCapacity(texts.reduce(0) { $0 + $1.utf8.count })
    var spans: [Range<Int>] = []
    spans.reserveCapacity(texts.count)
    for text in texts {
        let start = storage.count
        storage.append(contentsOf: text.utf8)
        spans.append(start..<storage.count)
    }
    return storage.withUnsafeBufferPointer { bytes in
        let base = bytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }
        let strings = spans.map { span in trellis_str_t(ptr: base.map { $0 + span.lowerBound }, len: span.count) }
        return strings.withUnsafeBufferPointer(body)
    }
}

extension trellis_analyzer_v1_t {
    typealias TokenizeFunction = @convention(c) (OpaquePointer?, trellis_str_t, UnsafeMutableRawPointer?,
                                                 trellis_token_fn?, UnsafePointer<trellis_reply_t>?) -> trellis_status_t
}
