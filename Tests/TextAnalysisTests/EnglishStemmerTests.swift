import Foundation
import Testing
@testable import TrellisTextAnalysis

/// The English stemmer, word for word against the reference implementation
/// (PyPI's snowballstemmer 3.1.1, which .ci/setup installs) over every word
/// of Debian's wamerican word list.
@Suite struct EnglishStemmerTests {
    static let wordList = "/usr/share/dict/american-english"

    @Test func everyWordOfTheListStemsAsTheReferenceStemsIt() throws {
        let words = try String(contentsOfFile: Self.wordList, encoding: .utf8)
            .split(separator: "\n").map { CaseFolding.fold(String($0)) }
        #expect(words.count > 90_000, "the whole list was read")
        let reference = try Self.referenceStems(words)
        #expect(reference.count == words.count, "the reference answered for every word")
        var differences: [String] = []
        for (word, expected) in zip(words, reference) {
            let stem = EnglishStemmer.stem(word)
            if stem != expected { differences.append("\(word): \(stem), not \(expected)") }
        }
        #expect(differences.isEmpty, "\(differences.count) of \(words.count) words differ, first: \(differences.prefix(10))")
    }

    @Test func examples() {
        let pairs = ["connections": "connect", "generously": "generous", "running": "run", "dying": "die", "skies": "sky",
                     "news": "news", "cried": "cri", "ties": "tie", "hopping": "hop", "hoping": "hope", "agreed": "agre",
                     "succeeding": "succeed", "a": "a", "by": "by", "trellis's": "trelli"]
        for (word, stem) in pairs { #expect(EnglishStemmer.stem(word) == stem, "\(word)") }
    }

    /// Stems through the reference implementation, one word per line.
    static func referenceStems(_ words: [String]) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", """
            import sys, importlib.metadata, snowballstemmer
            version = importlib.metadata.version("snowballstemmer")
            assert version == "3.1.1", "snowballstemmer " + version + " is installed; .ci/setup installs 3.1.1"
            stemmer = snowballstemmer.stemmer("english")
            words = sys.stdin.read().split("\\n")
            sys.stdout.write("\\n".join(stemmer.stemWords(words)))
            """]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let writer = Thread {
            input.fileHandleForWriting.write(Data(words.joined(separator: "\n").utf8))
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let problem = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ReferenceError(message: problem) }
        return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    struct ReferenceError: Error { var message: String }
}
