import TrellisJSON

/// A recursive-descent parser for ``Expression``. Its recursion, and the
/// depth of the trees it builds (which evaluating them recurses through),
/// are bounded: at most `maxDepth` parentheses and `!` inside one another,
/// and at most `maxOperators` operators in all, so no text can drive it past
/// the stack.
struct ExpressionParser {
    private let characters: [Character]
    private var index = 0
    private var depth = 0
    private var operators = 0

    static let maxDepth = 64
    static let maxOperators = 512

    init(_ text: String) { characters = Array(text) }

    private func fail(_ message: String) -> ExpressionError { ExpressionError(offset: index, message: message) }

    private mutating func skipSpace() {
        while index < characters.count, characters[index].isWhitespace { index += 1 }
    }

    private mutating func take(_ token: String) -> Bool {
        skipSpace()
        let chars = Array(token)
        guard index + chars.count <= characters.count, Array(characters[index..<(index + chars.count)]) == chars else {
            return false
        }
        index += chars.count
        return true
    }

    mutating func expectEnd() throws(ExpressionError) {
        skipSpace()
        if index < characters.count { throw fail("unexpected '\(characters[index])'") }
    }

    /// Counts one operator against the limit.
    private mutating func countOperator() throws(ExpressionError) {
        operators += 1
        if operators > Self.maxOperators {
            throw fail("the expression has more than \(Self.maxOperators) operators; split it across steps or inputs")
        }
    }

    /// Goes one level deeper (a parenthesis or a `!`), within the limit.
    private mutating func descend() throws(ExpressionError) {
        depth += 1
        if depth > Self.maxDepth {
            throw fail("the expression nests parentheses and '!' deeper than \(Self.maxDepth) levels")
        }
    }

    mutating func parseOr() throws(ExpressionError) -> Expression {
        var left = try parseAnd()
        while take("||") {
            try countOperator()
            left = .or(left, try parseAnd())
        }
        return left
    }

    private mutating func parseAnd() throws(ExpressionError) -> Expression {
        var left = try parseComparison()
        while take("&&") {
            try countOperator()
            left = .and(left, try parseComparison())
        }
        return left
    }

    private mutating func parseComparison() throws(ExpressionError) -> Expression {
        let left = try parseUnary()
        for op in ["==", "!=", "<=", ">=", "<", ">"] where take(op) {
            try countOperator()
            return .compare(left, Expression.Comparison(rawValue: op)!, try parseUnary())
        }
        return left
    }

    private mutating func parseUnary() throws(ExpressionError) -> Expression {
        skipSpace()
        if index < characters.count, characters[index] == "!",
           !(index + 1 < characters.count && characters[index + 1] == "=") {
            index += 1
            try descend()
            try countOperator()
            defer { depth -= 1 }
            return .not(try parseUnary())
        }
        return try parsePrimary()
    }

    private mutating func parsePrimary() throws(ExpressionError) -> Expression {
        skipSpace()
        guard index < characters.count else { throw fail("the expression ends where a value was expected") }
        let character = characters[index]
        if character == "(" {
            index += 1
            try descend()
            defer { depth -= 1 }
            let inner = try parseOr()
            guard take(")") else { throw fail("missing ')'") }
            return inner
        }
        if character == "'" || character == "\"" { return .literal(.string(try parseString())) }
        if character.isNumber || character == "-" { return .literal(.number(try parseNumber())) }
        if character.isLetter || character == "_" {
            let word = parseIdentifier()
            switch word {
            case "true": return .literal(.bool(true))
            case "false": return .literal(.bool(false))
            case "null": return .literal(.null)
            default: return .path(try parsePath(first: word))
            }
        }
        throw fail("unexpected '\(character)'")
    }

    private mutating func parseIdentifier() -> String {
        var word = ""
        while index < characters.count,
              characters[index].isLetter || characters[index].isNumber || characters[index] == "_" || characters[index] == "-" {
            word.append(characters[index])
            index += 1
        }
        return word
    }

    private mutating func parsePath(first: String) throws(ExpressionError) -> [Expression.PathComponent] {
        guard Expression.roots.contains(first) else {
            throw fail("unknown name '\(first)': expressions start with inputs, steps, run or secrets")
        }
        var path: [Expression.PathComponent] = [.key(first)]
        while index < characters.count {
            if characters[index] == "." {
                index += 1
                let key = parseIdentifier()
                guard !key.isEmpty else { throw fail("a name must follow '.'") }
                path.append(.key(key))
            } else if characters[index] == "[" {
                index += 1
                skipSpace()
                if index < characters.count, characters[index] == "'" || characters[index] == "\"" {
                    path.append(.key(try parseString()))
                } else {
                    let number = try parseNumber()
                    guard number >= 0, number.rounded() == number, number < 2_147_483_648 else {
                        throw fail("an index must be a whole number from 0 to 2147483647")
                    }
                    path.append(.index(Int(number)))
                }
                guard take("]") else { throw fail("missing ']'") }
            } else {
                break
            }
        }
        return path
    }

    private mutating func parseString() throws(ExpressionError) -> String {
        let quote = characters[index]
        index += 1
        var value = ""
        while index < characters.count, characters[index] != quote {
            if characters[index] == "\\", index + 1 < characters.count { index += 1 }
            value.append(characters[index])
            index += 1
        }
        guard index < characters.count else { throw fail("a string is not closed") }
        index += 1
        return value
    }

    private mutating func parseNumber() throws(ExpressionError) -> Double {
        var text = ""
        guard index < characters.count else { throw fail("the expression ends where a number was expected") }
        if characters[index] == "-" {
            text = "-"
            index += 1
        }
        while index < characters.count, characters[index].isNumber || characters[index] == "." {
            text.append(characters[index])
            index += 1
        }
        guard let value = Double(text) else { throw fail("'\(text)' is not a number") }
        return value
    }
}
