/// A parsed query.
public indirect enum QueryNode: Sendable, Equatable {
    /// A word: in one field or all text fields; `fuzzy` edits allowed (nil:
    /// exact; -1: by the word's length); `prefix` for `auto*`.
    case term(field: String?, text: String, fuzzy: Int?, prefix: Bool, boost: Double)
    /// Words in order, at most `slop` positions out of place.
    case phrase(field: String?, text: String, slop: Int, boost: Double)
    case boolean([Clause])
    /// `*`: every document.
    case all

    public struct Clause: Sendable, Equatable {
        public enum Occur: Sendable, Equatable { case must, should, mustNot }
        public var occur: Occur
        public var node: QueryNode
    }
}

/// Reads the query syntax: `word`, `field:word`, `"a phrase"`, `"near
/// words"~2`, `auto*`, `term~1`, `word^2`, `+must`, `-not`, `AND`, `OR`,
/// `NOT`, and parentheses. Words without an operator between them are
/// joined by the default operator.
public struct QueryParser {
    public enum DefaultOperator: String, Sendable { case or, and }

    public var defaultOperator: DefaultOperator
    /// Bounds on what one query may ask for.
    public var maximumLength = 4096
    public var maximumClauses = 256
    public var maximumDepth = 16

    public init(defaultOperator: DefaultOperator = .or) {
        self.defaultOperator = defaultOperator
    }

    public func parse(_ text: String) throws(SearchError) -> QueryNode {
        guard text.utf8.count <= maximumLength else {
            throw .query("the query is \(text.utf8.count) bytes, more than \(maximumLength)", at: 0)
        }
        var state = State(characters: Array(text), parser: self)
        let node = try state.group(depth: 0)
        state.skipSpaces()
        guard state.index == state.characters.count else {
            throw .query(state.characters[state.index] == ")" ? "a ')' closes nothing" : "unexpected '\(state.characters[state.index])'",
                         at: state.index)
        }
        return node
    }

    struct State {
        let characters: [Character]
        let parser: QueryParser
        var index = 0
        var clauses = 0

        mutating func skipSpaces() {
            while index < characters.count, characters[index].isWhitespace { index += 1 }
        }

        func peekWord() -> String {
            var end = index
            while end < characters.count, !characters[end].isWhitespace, characters[end] != "(", characters[end] != ")" { end += 1 }
            return String(characters[index..<end])
        }

        /// A sequence of clauses, up to a ')' or the end.
        mutating func group(depth: Int) throws(SearchError) -> QueryNode {
            guard depth <= parser.maximumDepth else { throw .query("parentheses nest deeper than \(parser.maximumDepth)", at: index) }
            var result: [QueryNode.Clause] = []
            var pendingConjunction: String?
            while true {
                skipSpaces()
                guard index < characters.count, characters[index] != ")" else { break }
                let word = peekWord()
                if word == "AND" || word == "OR" || word == "&&" || word == "||" {
                    guard !result.isEmpty else { throw .query("'\(word)' has nothing before it", at: index) }
                    pendingConjunction = word == "AND" || word == "&&" ? "AND" : "OR"
                    index += word.count
                    continue
                }
                var occur: QueryNode.Clause.Occur = parser.defaultOperator == .and ? .must : .should
                var explicit = false
                if word == "NOT" {
                    occur = .mustNot
                    explicit = true
                    index += 3
                    skipSpaces()
                } else if characters[index] == "+" || characters[index] == "-" || characters[index] == "!" {
                    occur = characters[index] == "+" ? .must : .mustNot
                    explicit = true
                    index += 1
                }
                let start = index
                let node = try primary(depth: depth)
                clauses += 1
                guard clauses <= parser.maximumClauses else { throw .query("more than \(parser.maximumClauses) clauses", at: start) }
                if let conjunction = pendingConjunction {
                    if conjunction == "AND" {
                        if result[result.count - 1].occur == .should { result[result.count - 1].occur = .must }
                        if !explicit { occur = .must }
                    } else {
                        if result[result.count - 1].occur == .must, parser.defaultOperator == .and { result[result.count - 1].occur = .should }
                        if !explicit { occur = .should }
                    }
                    pendingConjunction = nil
                }
                result.append(.init(occur: occur, node: node))
            }
            if let pendingConjunction { throw .query("'\(pendingConjunction)' has nothing after it", at: index) }
            if result.count == 1, result[0].occur != .mustNot { return result[0].node }
            return .boolean(result)
        }

        mutating func primary(depth: Int) throws(SearchError) -> QueryNode {
            skipSpaces()
            guard index < characters.count else { throw .query("the query ends where a word was expected", at: index) }
            if characters[index] == "(" {
                let open = index
                index += 1
                let inner = try group(depth: depth + 1)
                guard index < characters.count, characters[index] == ")" else { throw .query("this '(' is never closed", at: open) }
                index += 1
                return try boosted(inner)
            }
            // field:
            var field: String?
            var end = index
            while end < characters.count, characters[end].isLetter || characters[end].isNumber || characters[end] == "_" || characters[end] == "." {
                end += 1
            }
            if end > index, end < characters.count, characters[end] == ":", characters[index].isLetter {
                field = String(characters[index..<end])
                index = end + 1
                guard index < characters.count, !characters[index].isWhitespace else {
                    throw .query("'\(field!):' names a field but no word to look for in it", at: index)
                }
            }
            if characters[index] == "\"" {
                let open = index
                index += 1
                var text = ""
                while index < characters.count, characters[index] != "\"" {
                    if characters[index] == "\\", index + 1 < characters.count { index += 1 }
                    text.append(characters[index])
                    index += 1
                }
                guard index < characters.count else { throw .query("this quote is never closed", at: open) }
                index += 1
                var slop = 0
                if index < characters.count, characters[index] == "~" {
                    index += 1
                    slop = try number(upTo: 100, what: "a phrase's slop")
                }
                var boost = 1.0
                if index < characters.count, characters[index] == "^" { boost = try boostValue() }
                return .phrase(field: field, text: text, slop: slop, boost: boost)
            }
            if field == nil, characters[index] == "*", index + 1 == characters.count || characters[index + 1].isWhitespace || characters[index + 1] == ")" {
                index += 1
                return .all
            }
            var text = ""
            while index < characters.count {
                let character = characters[index]
                if character.isWhitespace || "()\"~^".contains(character) { break }
                if character == "\\", index + 1 < characters.count {
                    text.append(characters[index + 1])
                    index += 2
                    continue
                }
                text.append(character)
                index += 1
            }
            guard !text.isEmpty else { throw .query("'\(characters[index])' where a word was expected", at: index) }
            var prefix = false
            if text.hasSuffix("*"), text.count > 1 {
                text.removeLast()
                prefix = true
            }
            guard !text.contains("*") else { throw .query("'*' stands only at a word's end (auto*) or alone", at: index - 1) }
            var fuzzy: Int?
            if index < characters.count, characters[index] == "~" {
                index += 1
                if index < characters.count, characters[index].isNumber {
                    fuzzy = try number(upTo: 2, what: "a fuzzy term's edits")
                } else {
                    fuzzy = -1
                }
            }
            var boost = 1.0
            if index < characters.count, characters[index] == "^" { boost = try boostValue() }
            return .term(field: field, text: text, fuzzy: fuzzy, prefix: prefix, boost: boost)
        }

        mutating func number(upTo limit: Int, what: String) throws(SearchError) -> Int {
            let start = index
            var value = 0
            while index < characters.count, let digit = characters[index].wholeNumberValue, characters[index].isASCII {
                value = value * 10 + digit
                index += 1
                guard value <= limit else { throw .query("\(what) is at most \(limit)", at: start) }
            }
            guard index > start else { throw .query("a number was expected after '~'", at: start) }
            return value
        }

        mutating func boostValue() throws(SearchError) -> Double {
            let start = index
            index += 1
            var text = ""
            while index < characters.count, characters[index].isNumber || characters[index] == "." {
                text.append(characters[index])
                index += 1
            }
            guard let value = Double(text), value >= 0, value <= 1000 else { throw .query("a boost is a number from 0 to 1000 after '^'", at: start) }
            return value
        }

        func boosted(_ node: QueryNode) throws(SearchError) -> QueryNode {
            guard index < characters.count, characters[index] == "^" else { return node }
            throw .query("a boost (^) applies to a word or a phrase, not to parentheses", at: index)
        }
    }
}
