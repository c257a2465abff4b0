import Foundation
import Testing
@testable import TrellisSDK

/// The SDK's own JSON coding, which every plugin call goes through: it must
/// read and write what Foundation's coders do, keep 64-bit integers exact,
/// and say where the input went wrong.
@Suite struct PluginJSONTests {
    struct Message: Codable, Equatable {
        enum Kind: String, Codable { case alert, digest }
        struct Target: Codable, Equatable {
            var url: URL
            var headers: [String: String]
        }
        var kind: Kind
        var title: String
        var count: Int
        var big: UInt64
        var small: Int64
        var ratio: Double
        var flags: [Bool]
        var target: Target
        var note: String?
        var payload: Data
        var data: JSON
    }

    static let sample = Message(
        kind: .alert, title: "disk \"full\" on web/1 — 97%\n", count: 3, big: .max, small: .min, ratio: 0.25,
        flags: [true, false], target: .init(url: URL(string: "https://hooks.example.com/a?b=c")!, headers: ["X-Key": "v"]),
        note: nil, payload: Data([0, 1, 2, 250]),
        data: .object(["nested": .array([.number(1), .string("two"), .null, .bool(true)]), "e": .number(1.5)]))

    func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try Array(text.utf8).withUnsafeBytes { try PluginJSON.decode(type, from: $0) }
    }

    @Test func whatItWritesItReadsBack() throws {
        let bytes = try PluginJSON.encode(Self.sample)
        let back = try bytes.withUnsafeBytes { try PluginJSON.decode(Message.self, from: $0) }
        #expect(back == Self.sample)
    }

    @Test func itWritesWhatFoundationsEncoderWrites() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let foundation = try encoder.encode(Self.sample)
        #expect(String(decoding: try PluginJSON.encode(Self.sample), as: UTF8.self) == String(decoding: foundation, as: UTF8.self))
        // And what Foundation writes, it reads as Foundation does.
        let back = try foundation.withUnsafeBytes { try PluginJSON.decode(Message.self, from: $0) }
        #expect(back == (try JSONDecoder().decode(Message.self, from: foundation)))
    }

    @Test func largeIntegersStayExact() throws {
        struct Numbers: Codable, Equatable { var a: UInt64; var b: Int64; var c: Int }
        let numbers = try decode(Numbers.self, #"{"a": 18446744073709551615, "b": -9223372036854775808, "c": 9007199254740993}"#)
        #expect(numbers == Numbers(a: .max, b: .min, c: 9_007_199_254_740_993))
        #expect(String(decoding: try PluginJSON.encode(numbers), as: UTF8.self)
                == #"{"a":18446744073709551615,"b":-9223372036854775808,"c":9007199254740993}"#)
    }

    @Test func wholeNumbersWrittenWithAFractionFitIntegers() throws {
        struct One: Decodable { var n: UInt8 }
        #expect(try decode(One.self, #"{"n": 3.0}"#).n == 3)
        #expect(try decode(One.self, #"{"n": 2e1}"#).n == 20)
        #expect(throws: DecodingError.self) { try decode(One.self, #"{"n": 3.5}"#) }
        #expect(throws: DecodingError.self) { try decode(One.self, #"{"n": 300}"#) }
    }

    @Test func escapesAndSurrogatePairsAreRead() throws {
        let text = try decode(String.self, #""caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \n\t""#)
        #expect(text == "café 😀 \"q\" \\ / \n\t")
    }

    @Test func emptyInputIsAnEmptyObject() throws {
        struct Options: Decodable { var verbose: Bool? }
        let options = try PluginJSON.decode(Options.self, from: UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(options.verbose == nil)
    }

    @Test func aMissingFieldNamesItsPath() throws {
        do {
            _ = try decode(Message.Target.self, #"{"url": "https://a.example", "headers": {"k": 1}}"#)
            Issue.record("decoded a number as a string")
        } catch DecodingError.typeMismatch(_, let context) {
            #expect(context.codingPath.map(\.stringValue) == ["headers", "k"])
            #expect(context.debugDescription == "found a number")
        }
        do {
            _ = try decode(Message.Target.self, #"{"headers": {}}"#)
            Issue.record("decoded without the url")
        } catch DecodingError.keyNotFound(let key, _) {
            #expect(key.stringValue == "url")
        }
        do {
            _ = try decode([Int].self, #"[1, null]"#)
            Issue.record("decoded null as an Int")
        } catch DecodingError.valueNotFound(_, let context) {
            #expect(context.codingPath.map(\.stringValue) == ["1"])
        }
    }

    @Test(arguments: [
        (#"{"a": 1,}"#, "expected a member name in quotes at byte 8"),
        (#"{"a" 1}"#, "expected ':' after a member name at byte 5"),
        (#"[01]"#, "a number cannot start with 0 at byte 2"),
        (#"[1.]"#, "a fraction needs digits at byte 3"),
        ("\"a\u{1}b\"", "a control character inside a string at byte 2"),
        (#""\ud800""#, #"a lone surrogate in \u escapes at byte 7"#),
        (#"{"a": tru}"#, "unknown literal at byte 6"),
        (#"{"a": 1} x"#, "text after the JSON value at byte 9"),
        (#"{"a": [1, 2"#, "the JSON ends inside an array at byte 11"),
        (String(repeating: "[", count: 600), "nested more than 512 levels deep at byte 512"),
    ])
    func malformedJSONSaysWhatAndWhere(input: String, reason: String) throws {
        do {
            _ = try decode(JSON.self, input)
            Issue.record("accepted \(input)")
        } catch DecodingError.dataCorrupted(let context) {
            #expect(context.debugDescription == "not valid JSON: \(reason)")
        }
    }

    @Test func nonFiniteNumbersAreRefused() throws {
        struct Value: Encodable { var x: Double }
        #expect(throws: EncodingError.self) { try PluginJSON.encode(Value(x: .nan)) }
    }
}

extension PluginJSONTests {
    @Test func aReceiptIsWrittenAsItsCodableFormWouldBe() throws {
        let receipt = DeliveryReceipt(id: "n-1/0", status: .delivered, detail: ["http_status": "204", "file": "/tmp/a\"b"])
        var direct: [UInt8] = []
        receipt.node.write(to: &direct)
        #expect(direct == (try PluginJSON.encode(receipt)))
    }
}
