import Foundation
import Testing
@testable import TrellisTextAnalysis

/// The word segmenter against every case of the Unicode Consortium's
/// WordBreakTest.txt (Debian's unicode-data, installed by .ci/setup), and the
/// tokenizer on text of many scripts.
@Suite struct WordBreakTests {
    static let testFile = "/usr/share/unicode/auxiliary/WordBreakTest.txt"

    @Test func everyCaseOfTheUnicodeTestFilePasses() throws {
        let text = try String(contentsOfFile: Self.testFile, encoding: .utf8)
        #expect(text.contains("WordBreakTest-\(UnicodeTables.version).txt"),
                "the tables (Unicode \(UnicodeTables.version)) and the test file are of one Unicode version")
        var cases = 0
        var failures: [String] = []
        for line in text.split(separator: "\n") {
            let rule = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard !rule.isEmpty else { continue }
            var scalars: [UInt32] = []
            var expected: [Int] = []
            for part in rule.split(whereSeparator: \.isWhitespace) {
                switch part {
                case "÷": expected.append(scalars.count)
                case "×": break
                default: scalars.append(try #require(UInt32(part, radix: 16), "'\(part)' in \(rule)"))
                }
            }
            cases += 1
            let found = WordSegmenter(scalars: scalars).boundaries()
            if found != expected { failures.append("\(rule): got \(found)") }
        }
        #expect(cases > 1800, "the whole file was read (\(cases) cases)")
        #expect(failures.isEmpty, "\(failures.count) of \(cases) cases differ, first: \(failures.prefix(5))")
    }

    func words(_ text: String, stopWords: Set<String> = []) -> [(String, Int, String)] {
        var bytes = Array(text.utf8)
        var out: [(String, Int, String)] = []
        bytes.withUnsafeMutableBufferPointer { buffer in
            WordTokenizer(stopWords: stopWords).words(of: UnsafeBufferPointer(buffer)) { word in
                out.append((String(scalars: word.scalars), word.position, String(decoding: buffer[word.bytes], as: UTF8.self)))
                return true
            }
        }
        return out
    }

    func terms(_ text: String) -> [String] { words(text).map(\.0) }

    @Test func latinWordsNumbersAndPunctuation() {
        #expect(terms("The quick (\"brown\") fox can't jump 32.3 feet, right?") ==
                ["the", "quick", "brown", "fox", "can't", "jump", "32.3", "feet", "right"])
        #expect(terms("e-mail 1,000,000 U.S.A. foo_bar") == ["e", "mail", "1,000,000", "u.s.a", "foo_bar"])
        #expect(terms("  \t\n ... !!") == [])
    }

    @Test func caseFoldingIsFullFolding() {
        #expect(terms("Straße STRASSE") == ["strasse", "strasse"])
        #expect(terms("ΣΊΣΥΦΟΣ σίσυφος") == ["σίσυφοσ", "σίσυφοσ"])
        #expect(CaseFolding.fold("ǅemal İstanbul") == "ǆemal i̇stanbul")
    }

    @Test func combiningMarksStayInTheirWordAndOffsetsAreBytes() {
        let found = words("e\u{301}clair cafe\u{301}")
        #expect(found.map(\.0) == ["e\u{301}clair", "cafe\u{301}"])
        #expect(found.map(\.2) == ["e\u{301}clair", "cafe\u{301}"], "each byte range covers its word exactly")
        #expect(found.map(\.1) == [0, 1])
    }

    @Test func ideographsKanaHangulAndThai() {
        #expect(terms("搜索引擎") == ["搜", "索", "引", "擎"], "each Han ideograph is a word (UAX #29 keeps no dictionary)")
        #expect(terms("カタカナ ひらがな") == ["カタカナ", "ひ", "ら", "が", "な"])
        #expect(terms("한국어 검색") == ["한국어", "검색"])
        #expect(terms("Trellis和Swift") == ["trellis", "和", "swift"])
    }

    @Test func rightToLeftScripts() {
        #expect(terms("שלום עולם") == ["שלום", "עולם"])
        #expect(terms("מנכ\"ל") == ["מנכ\"ל"], "a Hebrew acronym keeps its gershayim (WB7b, WB7c)")
        #expect(terms("مرحبا بالعالم") == ["مرحبا", "بالعالم"])
    }

    @Test func emojiAreWordsAndSequencesStayWhole() {
        #expect(terms("ship it 🚀 👍🏽") == ["ship", "it", "🚀", "👍🏽"])
        #expect(terms("👨‍👩‍👧 family") == ["👨‍👩‍👧", "family"], "a ZWJ sequence is one word (WB3c)")
        #expect(terms("🇫🇷🇩🇪") == ["🇫🇷", "🇩🇪"], "regional indicators pair up (WB15, WB16)")
        #expect(terms("© 2026") == ["2026"], "a pictograph shown as text is not a word")
    }

    @Test func stopWordsLeaveAPositionGap() {
        let found = words("The cat and the hat", stopWords: StopWords.english)
        #expect(found.map(\.0) == ["cat", "hat"])
        #expect(found.map(\.1) == [1, 4])
    }

    @Test func malformedUTF8NeverStopsTheTokenizer() {
        var bytes = Array("ok ".utf8) + [0xFF, 0xC3] + Array(" fine".utf8)
        var found: [String] = []
        bytes.withUnsafeMutableBufferPointer { buffer in
            WordTokenizer().words(of: UnsafeBufferPointer(buffer)) { word in
                found.append(String(scalars: word.scalars))
                return true
            }
        }
        #expect(found == ["ok", "fine"])
    }
}
