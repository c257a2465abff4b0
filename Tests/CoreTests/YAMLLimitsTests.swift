import Foundation
import Testing
import TrellisCore

/// No YAML file can crash, hang or exhaust the host: deep nesting, alias
/// bombs and huge files are refused with the place and the limit.
@Suite struct YAMLLimitsTests {
    func problem(_ text: String, limits: YAMLLimits = .standard) -> YAMLError? {
        do {
            _ = try YAMLDocument(text: text, file: "bad.yaml", limits: limits)
            return nil
        } catch {
            return error
        }
    }

    @Test func fiveThousandNestedSequencesAreRefusedNotAStackOverflow() throws {
        let text = "name: deep\nsteps:\n  - id: a\n    uses: noop\n    with: { v: " + String(repeating: "[", count: 5000)
            + String(repeating: "]", count: 5000) + " }\n"
        let error = try #require(problem(text))
        #expect(error.message == "nested 129 levels deep, deeper than the limit of 128")
        #expect(error.location.line == 5)
    }

    @Test func threeThousandNestedFlowMappingsAreRefused() throws {
        let text = "v: " + String(repeating: "{a: ", count: 3000) + "1" + String(repeating: "}", count: 3000) + "\n"
        let error = try #require(problem(text))
        #expect(error.message.contains("deeper than the limit of 128"))
    }

    @Test func deepBlockNestingIsRefused() throws {
        var text = ""
        for level in 0..<200 { text += String(repeating: " ", count: level) + "k\(level):\n" }
        text += String(repeating: " ", count: 200) + "leaf: 1\n"
        let error = try #require(problem(text))
        #expect(error.message == "nested 129 levels deep, deeper than the limit of 128")
        #expect(error.location.line == 129)
        // Sequences of sequences on one line count too.
        let dashes = String(repeating: "- ", count: 300) + "x\n"
        #expect(problem(dashes)?.message.contains("deeper than the limit") == true)
    }

    @Test func nestingWithinTheLimitIsRead() throws {
        var text = ""
        for level in 0..<100 { text += String(repeating: " ", count: level * 2) + "k:\n" }
        text += String(repeating: " ", count: 200) + "leaf: 1\n"
        #expect(problem(text) == nil)
        let flow = "v: " + String(repeating: "[", count: 100) + "1" + String(repeating: "]", count: 100) + "\n"
        #expect(problem(flow) == nil)
        // Brackets inside quotes and comments do not nest.
        let quoted = "a: \"" + String(repeating: "[", count: 500) + "\"\nb: '" + String(repeating: "{", count: 500) + "'\n# "
            + String(repeating: "[", count: 500) + "\n"
        #expect(problem(quoted) == nil)
    }

    /// Billion laughs: nine levels of ten aliases each, in a few hundred bytes.
    @Test(.timeLimit(.minutes(1)))
    func anAliasBombIsRefusedQuickly() throws {
        var text = "a0: &a0 [lol]\n"
        for level in 1...9 {
            text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        #expect(text.utf8.count < 600)
        let error = try #require(problem(text))
        // The refusal names the limit: counting stopped at a million values of
        // the bomb's billion. (No wall-clock bound here: a busy suite on two
        // cores took 5.8 s once; the time limit above guards against a hang.)
        #expect(error.message.contains("expands to more than 1000000 values"), "\(error.message)")
    }

    @Test func aChainOfAliasesCannotNestPastTheLimit() throws {
        var text = "a0: &a0 [x]\n"
        for level in 1...300 { text += "a\(level): &a\(level) [*a\(level - 1)]\n" }
        let error = try #require(problem(text))
        #expect(error.message.contains("aliases nest what they name"), "\(error.message)")
    }

    @Test func aHugeFileIsRefused() throws {
        var limits = YAMLLimits()
        limits.maximumBytes = 1000
        let error = try #require(problem("a: \"" + String(repeating: "x", count: 2000) + "\"\n", limits: limits))
        #expect(error.message == "the file is 2006 bytes, more than the limit of 1000")
    }
}

extension YAMLLimitsTests {
    /// Found by the loader fuzzer: a quote inside a plain scalar is not the
    /// start of a quoted one, so the brackets after it still nest (Yams
    /// overflowed its stack on them).
    @Test func aQuoteInsideAPlainScalarDoesNotHideNesting() throws {
        let text = "inputs: { = <  'succ " + String(repeating: "{", count: 3000) + "\n"
        let error = try #require(problem(text))
        #expect(error.message.contains("deeper than the limit of 128"), "\(error.message)")
        // A real quoted scalar still hides what it holds.
        #expect(problem("a: { b: '" + String(repeating: "{", count: 300) + "' }\n") == nil)
    }
}
