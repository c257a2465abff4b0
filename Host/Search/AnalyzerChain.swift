import TrellisPluginHost

/// A text field's analysis: its first analyzer tokenizes, each later one
/// filters what the links before it made. Every link is a plugin.
public struct AnalyzerChain: Sendable {
    public let links: [PluginInstance]

    public init(links: [PluginInstance]) {
        precondition(!links.isEmpty)
        self.links = links
    }

    /// What the index records for the field: each link's id and version.
    public var signature: String { links.map { "\($0.info.id)@\($0.info.version)" }.joined(separator: " → ") }

    /// The tokens of one text.
    public func analyze(_ text: String) throws(SearchError) -> [AnalyzedToken] {
        do {
            var tokens = try links[0].tokens(of: text)
            for filter in links.dropFirst() { tokens = try Self.filtered(filter, text, tokens) }
            return tokens
        } catch {
            throw .analysis("\(error)")
        }
    }

    /// The tokens of many texts, with one tokenizer call for them all where
    /// the tokenizer offers batches.
    public func analyze(batch texts: [String]) throws(SearchError) -> [[AnalyzedToken]] {
        var result = [[AnalyzedToken]](repeating: [], count: texts.count)
        do {
            try links[0].tokenizeBatch(texts) { index, token in
                result[index].append(AnalyzedToken(term: String(decoding: token.term, as: UTF8.self), position: token.position,
                                                   bytes: token.bytes))
                return true
            }
            if links.count > 1 {
                for index in texts.indices where !result[index].isEmpty {
                    for filter in links.dropFirst() { result[index] = try Self.filtered(filter, texts[index], result[index]) }
                }
            }
        } catch {
            throw .analysis("\(error)")
        }
        return result
    }

    private static func filtered(_ filter: PluginInstance, _ text: String, _ tokens: [AnalyzedToken]) throws(PluginCallError) -> [AnalyzedToken] {
        var output: [AnalyzedToken] = []
        output.reserveCapacity(tokens.count)
        try filter.filter(text, tokens: tokens) { token in
            output.append(AnalyzedToken(term: String(decoding: token.term, as: UTF8.self), position: token.position, bytes: token.bytes))
            return true
        }
        return output
    }
}
