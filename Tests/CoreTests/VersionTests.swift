import Testing
import TrellisCore

@Suite struct VersionTests {
    func v(_ text: String) -> SemanticVersion { SemanticVersion(text)! }

    @Test func parsingAndOrdering() {
        #expect(SemanticVersion("1.2") == nil)
        #expect(SemanticVersion("1.2.3.4") == nil)
        #expect(SemanticVersion("v1.2.3") == SemanticVersion(1, 2, 3))
        #expect(v("1.0.0-beta.2") < v("1.0.0-beta.10"))
        #expect(v("1.0.0-rc.1") < v("1.0.0"))
        #expect(v("1.10.0") > v("1.9.9"))
    }

    @Test(arguments: [
        ("^1.2.0", ["1.2.0", "1.9.3"], ["1.1.9", "2.0.0"]),
        ("^0.2.3", ["0.2.3", "0.2.9"], ["0.3.0"]),
        ("~1.2.0", ["1.2.0", "1.2.7"], ["1.3.0"]),
        (">=1.0.0 <2.0.0", ["1.0.0", "1.99.0"], ["0.9.0", "2.0.0"]),
        (">1.0.0, <=1.5.0", ["1.0.1", "1.5.0"], ["1.0.0", "1.5.1"]),
        ("1.4.2", ["1.4.2"], ["1.4.3"]),
        ("1.x", ["1.0.0", "1.8.0"], ["2.0.0"]),
        ("1.2", ["1.2.0", "1.2.9"], ["1.3.0"]),
        ("*", ["0.0.1", "9.0.0"], []),
    ])
    func ranges(_ range: String, _ inside: [String], _ outside: [String]) throws {
        let parsed = try VersionRange(range)
        for version in inside { #expect(parsed.contains(v(version)), "\(range) should contain \(version)") }
        for version in outside { #expect(!parsed.contains(v(version)), "\(range) should not contain \(version)") }
    }

    @Test func badRangesSayWhatToWrite() {
        do {
            _ = try VersionRange(">=one")
            Issue.record("must be refused")
        } catch {
            #expect("\(error)".contains("'one' is not a version"))
        }
        #expect(throws: VersionRangeError.self) { try VersionRange("") }
    }
}

@Suite struct DurationFormattingTests {
    @Test func readableDurations() {
        #expect(formatDuration(0.2) == "200 ms")
        #expect(formatDuration(2) == "2 s")
        #expect(formatDuration(4.25) == "4.3 s" || formatDuration(4.25) == "4.2 s")
        #expect(formatDuration(185) == "3 min 5 s")
        #expect(parseDuration("1h30m") == 5400)
    }
}
