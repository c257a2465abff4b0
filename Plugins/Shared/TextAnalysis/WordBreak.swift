/// Word boundaries as Unicode Standard Annex #29 defines them (the default
/// word boundary rules WB1–WB999), over the tables of `UnicodeTables`.
public enum WordBreak: UInt8, Sendable {
    case other, cr, lf, newline, extend, zwj, regionalIndicator, format, katakana
    case hebrewLetter, aLetter, singleQuote, doubleQuote, midNumLet, midLetter, midNum
    case numeric, extendNumLet, wSegSpace

    /// The property of `scalar`.
    public static func of(_ scalar: UInt32) -> WordBreak {
        if scalar < 0x80 { return ascii[Int(scalar)] }
        return WordBreak(rawValue: lookup(scalar, UnicodeTables.wordBreakStarts, UnicodeTables.wordBreakEnds)
            .map { UnicodeTables.wordBreakValues[$0] } ?? 0) ?? .other
    }

    /// Whether `scalar` is Extended_Pictographic (emoji and the like).
    public static func isPictographic(_ scalar: UInt32) -> Bool {
        scalar >= 0xA9 && lookup(scalar, UnicodeTables.pictographicStarts, UnicodeTables.pictographicEnds) != nil
    }

    private static let ascii: [WordBreak] = (0..<128).map { scalar in
        WordBreak(rawValue: lookup(UInt32(scalar), UnicodeTables.wordBreakStarts, UnicodeTables.wordBreakEnds)
            .map { UnicodeTables.wordBreakValues[$0] } ?? 0) ?? .other
    }

    /// The index of the range holding `scalar`, by binary search.
    static func lookup(_ scalar: UInt32, _ starts: [UInt32], _ ends: [UInt32]) -> Int? {
        var low = 0, high = starts.count
        while low < high {
            let middle = (low + high) / 2
            if starts[middle] <= scalar { low = middle + 1 } else { high = middle }
        }
        let index = low - 1
        return index >= 0 && scalar <= ends[index] ? index : nil
    }

    var isAHLetter: Bool { self == .aLetter || self == .hebrewLetter }
    var isMidNumLetQ: Bool { self == .midNumLet || self == .singleQuote }
    /// Extend, Format and ZWJ, which WB4 attaches to what precedes them.
    var isIgnorable: Bool { self == .extend || self == .format || self == .zwj }
    var isNewline: Bool { self == .cr || self == .lf || self == .newline }
}

/// Splits a sequence of scalars into its word-boundary segments.
public struct WordSegmenter {
    public let scalars: [UInt32]
    let properties: [WordBreak]

    public init(scalars: [UInt32]) {
        self.scalars = scalars
        properties = scalars.map(WordBreak.of)
    }

    /// The boundaries, as scalar indexes: always 0 and `scalars.count` (when not empty).
    public func boundaries() -> [Int] {
        guard !scalars.isEmpty else { return [] }
        var result = [0]
        for index in 1..<scalars.count where breaks(before: index) { result.append(index) }
        result.append(scalars.count)
        return result
    }

    /// The index of the last scalar before `index` that WB4 does not fold
    /// into its predecessor, or nil at the start.
    private func previous(_ index: Int) -> Int? {
        var at = index - 1
        while at >= 0 {
            if !properties[at].isIgnorable { return at }
            // WB4 attaches an ignorable only to a preceding character that is not a newline or the start.
            if at == 0 || properties[at - 1].isNewline { return at }
            at -= 1
        }
        return nil
    }

    /// The first scalar after `index` that is not ignorable.
    private func next(_ index: Int) -> WordBreak? {
        var at = index + 1
        while at < properties.count {
            if !properties[at].isIgnorable { return properties[at] }
            at += 1
        }
        return nil
    }

    func breaks(before index: Int) -> Bool {
        let before = properties[index - 1], current = properties[index]
        if before == .cr && current == .lf { return false }                                   // WB3
        if before.isNewline || current.isNewline { return true }                              // WB3a, WB3b
        if before == .zwj && WordBreak.isPictographic(scalars[index]) { return false }       // WB3c
        if before == .wSegSpace && current == .wSegSpace { return false }                     // WB3d
        if current.isIgnorable { return false }                                               // WB4
        guard let previousIndex = previous(index) else { return true }
        let left = properties[previousIndex]
        let leftOfLeft = previous(previousIndex).map { properties[$0] }
        let right = next(index)
        if left.isAHLetter && current.isAHLetter { return false }                             // WB5
        if left.isAHLetter && (current == .midLetter || current.isMidNumLetQ) && right?.isAHLetter == true {
            return false                                                                       // WB6
        }
        if leftOfLeft?.isAHLetter == true && (left == .midLetter || left.isMidNumLetQ) && current.isAHLetter {
            return false                                                                       // WB7
        }
        if left == .hebrewLetter && current == .singleQuote { return false }                  // WB7a
        if left == .hebrewLetter && current == .doubleQuote && right == .hebrewLetter { return false } // WB7b
        if leftOfLeft == .hebrewLetter && left == .doubleQuote && current == .hebrewLetter { return false } // WB7c
        if left == .numeric && current == .numeric { return false }                           // WB8
        if left.isAHLetter && current == .numeric { return false }                            // WB9
        if left == .numeric && current.isAHLetter { return false }                            // WB10
        if leftOfLeft == .numeric && (left == .midNum || left.isMidNumLetQ) && current == .numeric { return false } // WB11
        if left == .numeric && (current == .midNum || current.isMidNumLetQ) && right == .numeric { return false } // WB12
        if left == .katakana && current == .katakana { return false }                         // WB13
        if (left.isAHLetter || left == .numeric || left == .katakana || left == .extendNumLet) && current == .extendNumLet {
            return false                                                                       // WB13a
        }
        if left == .extendNumLet && (current.isAHLetter || current == .numeric || current == .katakana) {
            return false                                                                       // WB13b
        }
        if left == .regionalIndicator && current == .regionalIndicator {                      // WB15, WB16
            var count = 0
            var at: Int? = previousIndex
            while let position = at, properties[position] == .regionalIndicator {
                count += 1
                at = previous(position)
            }
            return count % 2 == 0
        }
        return true                                                                            // WB999
    }
}
