/// The Snowball English stemmer ("Porter2"), as Snowball 3.1 defines it:
/// it takes a lower-case word to its stem ("connections" → "connect",
/// "generously" → "generous"). Words are handled as Unicode scalars; the
/// rules look at ASCII letters only.
public enum EnglishStemmer {
    public static func stem(_ word: String) -> String {
        String(scalars: stem(word.unicodeScalars.map(\.value)))
    }

    public static func stem(_ scalars: [UInt32]) -> [UInt32] {
        var word = Word(scalars)
        if let exception = exceptions[word.text] { return exception.map { Array($0.unicodeScalars.map(\.value)) } ?? scalars }
        guard scalars.count >= 3 else { return scalars }
        word.prelude()
        word.markRegions()
        word.step1a()
        word.step1b()
        word.step1c()
        word.step2()
        word.step3()
        word.step4()
        word.step5()
        return word.postlude()
    }

    /// Words the rules would get wrong: nil keeps the word as it is.
    static let exceptions: [String: String?] = [
        "skis": "ski", "skies": "sky", "idly": "idl", "gently": "gentl", "ugly": "ugli", "early": "earli",
        "only": "onli", "singly": "singl",
        "sky": nil, "news": nil, "howe": nil, "atlas": nil, "cosmos": nil, "bias": nil, "andes": nil,
    ]

    /// Prefixes after which R1 starts, whatever the rule says.
    static let regionPrefixes: [[UInt32]] = ["gener", "commun", "arsen", "past", "univers", "later", "emerg", "organ", "inter"]
        .map { Array($0.unicodeScalars.map(\.value)) }

    struct Word {
        var s: [UInt32]
        /// Where R1 and R2 start.
        var r1 = 0
        var r2 = 0
        var foundY = false

        init(_ scalars: [UInt32]) { s = scalars }

        var text: String { String(scalars: s) }

        static let a: UInt32 = 0x61, e: UInt32 = 0x65, i: UInt32 = 0x69, o: UInt32 = 0x6F, u: UInt32 = 0x75
        static let y: UInt32 = 0x79, upperY: UInt32 = 0x59, w: UInt32 = 0x77, x: UInt32 = 0x78
        static let apostrophe: UInt32 = 0x27

        static func isVowel(_ c: UInt32) -> Bool { c == a || c == e || c == i || c == o || c == u || c == y }

        func vowel(at index: Int) -> Bool { index >= 0 && index < s.count && Self.isVowel(s[index]) }

        func endsWith(_ suffix: String) -> Bool {
            let tail = suffix.unicodeScalars
            guard tail.count <= s.count else { return false }
            return zip(s[(s.count - tail.count)...], tail).allSatisfy { $0 == $1.value }
        }

        /// The longest of `suffixes` the word ends with.
        func longestSuffix(_ suffixes: [String]) -> String? {
            suffixes.filter(endsWith).max { $0.unicodeScalars.count < $1.unicodeScalars.count }
        }

        mutating func replace(_ count: Int, with replacement: String) {
            s.removeLast(count)
            s.append(contentsOf: replacement.unicodeScalars.map(\.value))
        }

        /// Whether the suffix of `length` lies in R1 (or R2).
        func inR1(_ length: Int) -> Bool { s.count - length >= r1 }
        func inR2(_ length: Int) -> Bool { s.count - length >= r2 }

        /// A short syllable ends the first `end` scalars: a vowel between
        /// two non-vowels, the last not w, x or Y; or a vowel then a
        /// non-vowel at the start; or the word ends there in "past".
        func shortSyllable(endingAt end: Int) -> Bool {
            if end >= 3, !vowel(at: end - 1), s[end - 1] != Self.w, s[end - 1] != Self.x, s[end - 1] != Self.upperY,
               vowel(at: end - 2), !vowel(at: end - 3) {
                return true
            }
            if end == 2, vowel(at: 0), !vowel(at: 1) { return true }
            let past: [UInt32] = [0x70, 0x61, 0x73, 0x74]
            return end >= 4 && Array(s[(end - 4)..<end]) == past
        }

        mutating func prelude() {
            if s.first == Self.apostrophe { s.removeFirst() }
            if s.first == Self.y {
                s[0] = Self.upperY
                foundY = true
            }
            var index = 0
            while index + 1 < s.count {
                if Self.isVowel(s[index]) && s[index + 1] == Self.y {
                    s[index + 1] = Self.upperY
                    foundY = true
                }
                index += 1
            }
        }

        /// R1: after the first non-vowel that follows a vowel (or after one of
        /// the listed prefixes); R2: the same rule again from R1.
        mutating func markRegions() {
            func after(_ start: Int) -> Int {
                var index = start
                while index < s.count && !vowel(at: index) { index += 1 }
                while index < s.count && vowel(at: index) { index += 1 }
                return index < s.count ? index + 1 : s.count
            }
            if let prefix = EnglishStemmer.regionPrefixes.first(where: { s.starts(with: $0) }) {
                r1 = prefix.count
            } else {
                r1 = after(0)
            }
            r2 = r1 < s.count ? after(r1) : s.count
        }

        mutating func step1a() {
            if let apostrophe = longestSuffix(["'s'", "'s", "'"]) { s.removeLast(apostrophe.unicodeScalars.count) }
            guard let suffix = longestSuffix(["sses", "ied", "ies", "ss", "us", "s"]) else { return }
            switch suffix {
            case "sses": replace(4, with: "ss")
            case "ied", "ies": replace(3, with: s.count - 3 >= 2 ? "i" : "ie")
            case "s":
                // Deleted when a vowel comes before the letter before the s.
                if s.count >= 2, s[0..<(s.count - 2)].contains(where: Self.isVowel) { s.removeLast() }
            default: break
            }
        }

        mutating func step1b() {
            guard let suffix = longestSuffix(["eedly", "ingly", "edly", "eed", "ing", "ed"]) else { return }
            let length = suffix.unicodeScalars.count
            let stem = Array(s[0..<(s.count - length)])
            switch suffix {
            case "eed", "eedly":
                guard inR1(length) else { return }
                let exact: [[UInt32]] = ["succ", "proc", "exc"].map { Array($0.unicodeScalars.map(\.value)) }
                if !exact.contains(stem) { replace(length, with: "ee") }
                return
            case "ing":
                // dying → die; inning, evening… stay.
                if stem.count == 2, stem[1] == Self.y, !Self.isVowel(stem[0]) {
                    replace(length + 1, with: "ie")
                    return
                }
                let whole: [[UInt32]] = ["inn", "out", "cann", "herr", "earr", "even"].map { Array($0.unicodeScalars.map(\.value)) }
                if whole.contains(stem) { return }
            default: break
            }
            guard stem.contains(where: Self.isVowel) else { return }
            s.removeLast(length)
            if endsWith("at") || endsWith("bl") || endsWith("iz") {
                s.append(Self.e)
            } else if let last = s.last, s.count >= 2, s[s.count - 2] == last,
                      [0x62, 0x64, 0x66, 0x67, 0x6D, 0x6E, 0x70, 0x72, 0x74].contains(last) {
                // A double letter is undoubled, but for a word of a, e or o and it (add, egg, off).
                if s.count == 3, s[0] == Self.a || s[0] == Self.e || s[0] == Self.o { return }
                s.removeLast()
            } else if s.count == r1, shortSyllable(endingAt: s.count) {
                s.append(Self.e)
            }
        }

        mutating func step1c() {
            guard s.count >= 3, let last = s.last, last == Self.y || last == Self.upperY, !vowel(at: s.count - 2) else { return }
            s[s.count - 1] = Self.i
        }

        static let step2Rules: [(String, String)] = [
            ("tional", "tion"), ("enci", "ence"), ("anci", "ance"), ("abli", "able"), ("entli", "ent"), ("izer", "ize"),
            ("ization", "ize"), ("ational", "ate"), ("ation", "ate"), ("ator", "ate"), ("alism", "al"), ("aliti", "al"),
            ("alli", "al"), ("fulness", "ful"), ("ousli", "ous"), ("ousness", "ous"), ("iveness", "ive"), ("iviti", "ive"),
            ("biliti", "ble"), ("bli", "ble"), ("fulli", "ful"), ("lessli", "less"), ("ogist", "og"), ("ogi", "og"), ("li", ""),
        ]

        mutating func step2() {
            guard let suffix = longestSuffix(Self.step2Rules.map(\.0)) else { return }
            let length = suffix.unicodeScalars.count
            guard inR1(length) else { return }
            switch suffix {
            case "ogi":
                if s.count >= 4, s[s.count - 4] == 0x6C { replace(3, with: "og") }
            case "li":
                if s.count >= 3, [0x63, 0x64, 0x65, 0x67, 0x68, 0x6B, 0x6D, 0x6E, 0x72, 0x74].contains(s[s.count - 3]) {
                    s.removeLast(2)
                }
            default:
                replace(length, with: Self.step2Rules.first { $0.0 == suffix }!.1)
            }
        }

        mutating func step3() {
            let rules: [(String, String)] = [("tional", "tion"), ("ational", "ate"), ("alize", "al"), ("icate", "ic"),
                                             ("iciti", "ic"), ("ical", "ic"), ("ful", ""), ("ness", ""), ("ative", "")]
            guard let suffix = longestSuffix(rules.map(\.0)) else { return }
            let length = suffix.unicodeScalars.count
            guard inR1(length) else { return }
            if suffix == "ative" {
                if inR2(length) { s.removeLast(length) }
                return
            }
            replace(length, with: rules.first { $0.0 == suffix }!.1)
        }

        mutating func step4() {
            let suffixes = ["al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ism", "ate",
                            "iti", "ous", "ive", "ize", "ion"]
            guard let suffix = longestSuffix(suffixes) else { return }
            let length = suffix.unicodeScalars.count
            guard inR2(length) else { return }
            if suffix == "ion" {
                guard s.count >= 4, s[s.count - 4] == 0x73 || s[s.count - 4] == 0x74 else { return }
            }
            s.removeLast(length)
        }

        mutating func step5() {
            if s.last == Self.e {
                if inR2(1) || (inR1(1) && !shortSyllable(endingAt: s.count - 1)) { s.removeLast() }
            } else if s.last == 0x6C, inR2(1), s.count >= 2, s[s.count - 2] == 0x6C {
                s.removeLast()
            }
        }

        func postlude() -> [UInt32] {
            foundY ? s.map { $0 == Self.upperY ? Self.y : $0 } : s
        }
    }
}
