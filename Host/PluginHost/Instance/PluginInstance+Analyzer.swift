import CTrellisABI
import TrellisJSON

/// One token from an analyzer.
public struct AnalyzedToken: Sendable, Hashable {
    public var term: String
    public var position: Int
    /// Byte range in the analyzed UTF-8 text.
    public var bytes: Range<Int>
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

extension trellis_analyzer_v1_t {
    typealias TokenizeFunction = @convention(c) (OpaquePointer?, trellis_str_t, UnsafeMutableRawPointer?,
                                                 trellis_token_fn?, UnsafePointer<trellis_reply_t>?) -> trellis_status_t
}
