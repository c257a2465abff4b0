/// What went wrong in the search engine, said so that a person can act on it.
public enum SearchError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The schema is not valid: every problem.
    case schema([String])
    case unknownIndex(String, known: [String])
    case indexExists(String)
    case invalidName(String)
    /// A text field's analyzer plugin is not loaded.
    case analyzerUnavailable(field: String, analyzer: String, reason: String)
    /// The index was built with other analyzers (or versions) than the deployment has now.
    case reindexNeeded(index: String, field: String, built: String, now: String)
    /// A query that cannot be read, with the character offset.
    case query(String, at: Int)
    /// A document that cannot be indexed.
    case document(String)
    /// An analyzer call failed.
    case analysis(String)
    /// Reading or writing the index's files failed.
    case storage(String)
    case damaged(String)

    public var description: String {
        switch self {
        case .schema(let problems):
            return "the schema is not valid:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
                + "\nSee docs/search.md, \"Schema\""
        case .unknownIndex(let name, let known):
            return "no search index '\(name)'" + (known.isEmpty ? " (there are none)" : " (there are: \(known.joined(separator: ", ")))")
                + "; make one with `trellis search create \(name) --schema FILE`"
        case .indexExists(let name):
            return "the search index '\(name)' exists; drop it first (`trellis search drop \(name)`) or choose another name"
        case .invalidName(let name):
            return "'\(name)' is not an index name: letters, digits, '-' and '_', at most 64, starting with a letter"
        case .analyzerUnavailable(let field, let analyzer, let reason):
            return "field '\(field)' is analyzed by \(analyzer), which is not loaded: \(reason). Enable it in the deployment config (plugins: \(analyzer):)"
        case .reindexNeeded(let index, let field, let built, let now):
            return "re-index needed: the index '\(index)' analyzed field '\(field)' with \(built), and the deployment now has \(now); "
                + "queries would not match what was indexed. Run `trellis search reindex \(index)`"
        case .query(let message, let offset):
            return "the query is not valid at character \(offset + 1): \(message). See docs/search.md, \"Query syntax\""
        case .document(let message): return "the document cannot be indexed: \(message)"
        case .analysis(let message): return "analysis failed: \(message)"
        case .storage(let message): return "the index cannot be read or written: \(message)"
        case .damaged(let message): return "the index is damaged: \(message); rebuild it with `trellis search reindex`, or drop it and index again"
        }
    }
}
