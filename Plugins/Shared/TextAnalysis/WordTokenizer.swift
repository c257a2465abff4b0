/// The words of a UTF-8 text: its UAX #29 segments that hold a letter, a
/// digit, an ideograph or an emoji (not spaces or punctuation alone), case
/// folded, each with its position and byte range. Positions count every
/// word, so a word a later filter drops leaves a gap (a phrase does not
/// match across it).
public struct WordTokenizer: Sendable {
    /// Longer words are cut at this many scalars.
    public var maximumLength: Int
    /// Words that are not emitted (after folding); their positions are skipped.
    public var stopWords: Set<String>

    public init(maximumLength: Int = 255, stopWords: Set<String> = []) {
        self.maximumLength = maximumLength
        self.stopWords = stopWords
    }

    public struct Word {
        /// The folded word, as scalars.
        public var scalars: [UInt32]
        public var position: Int
        public var bytes: Range<Int>
    }

    /// Calls `body` for each word; `body` returns false to stop.
    public func words(of text: UnsafeBufferPointer<UInt8>, _ body: (Word) throws -> Bool) rethrows {
        var scalars: [UInt32] = []
        var offsets: [Int] = []
        scalars.reserveCapacity(text.count)
        offsets.reserveCapacity(text.count + 1)
        var decoder = UTF8()
        var iterator = text.makeIterator()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                scalars.append(scalar.value)
                offsets.append(offset)
                offset += UTF8.width(scalar)
            case .error:
                // A malformed sequence stands for U+FFFD, one byte at a time.
                scalars.append(0xFFFD)
                offsets.append(offset)
                offset += 1
            case .emptyInput:
                offsets.append(text.count)
                return try emit(WordSegmenter(scalars: scalars), offsets, body)
            }
        }
    }

    private func emit(_ segmenter: WordSegmenter, _ offsets: [Int], _ body: (Word) throws -> Bool) rethrows {
        let boundaries = segmenter.boundaries()
        var position = 0
        var folded: [UInt32] = []
        for (start, end) in zip(boundaries, boundaries.dropFirst()) {
            guard isWord(segmenter, start..<end) else { continue }
            folded.removeAll(keepingCapacity: true)
            for index in start..<end where folded.count < maximumLength {
                CaseFolding.fold(segmenter.scalars[index], into: &folded)
            }
            if folded.count > maximumLength { folded.removeLast(folded.count - maximumLength) }
            defer { position += 1 }
            if !stopWords.isEmpty, stopWords.contains(String(scalars: folded)) { continue }
            guard try body(Word(scalars: folded, position: position, bytes: offsets[start]..<offsets[end])) else { return }
        }
    }

    private func isWord(_ segmenter: WordSegmenter, _ range: Range<Int>) -> Bool {
        for index in range {
            let scalar = segmenter.scalars[index]
            switch segmenter.properties[index] {
            case .aLetter, .hebrewLetter, .numeric, .katakana, .regionalIndicator: return true
            default:
                // ASCII letters and digits are ALetter and Numeric: the rest of ASCII is no word.
                if scalar < 0x80 { continue }
                guard let value = Unicode.Scalar(scalar) else { continue }
                if value.properties.isAlphabetic || value.properties.numericType != nil { return true }
                // An emoji: one shown as an emoji by default, or a pictograph asked to be (U+FE0F after it).
                if value.properties.isEmojiPresentation { return true }
                if WordBreak.isPictographic(scalar), index + 1 < range.upperBound, segmenter.scalars[index + 1] == 0xFE0F {
                    return true
                }
            }
        }
        return false
    }
}

extension String {
    /// The string of these scalars (invalid ones dropped).
    public init(scalars: [UInt32]) {
        var view = String.UnicodeScalarView()
        for scalar in scalars { if let value = Unicode.Scalar(scalar) { view.append(value) } }
        self = String(view)
    }
}
