import Foundation
import Testing
@testable import TrellisSDK

/// The host and the SDK share one JSON vocabulary (TrellisJSON): the same
/// value type, reader, writer and number rule on both sides of the boundary.
@Suite struct OneJSONTests {
    struct Number: Codable { var x: Double }

    /// A number is written the same by a plugin (through its Codable types)
    /// and by the host (through JSONValue), on both sides of 2^53.
    @Test(arguments: [0, -1, 1e15, 5e15, 9_007_199_254_740_991, 9_007_199_254_740_992, 1e16, 0.5, -2.25e-7])
    func aNumberIsWrittenTheSameOnBothSides(value: Double) throws {
        let plugin = String(decoding: try PluginJSON.encode(Number(x: value)), as: UTF8.self)
        let host = JSONValue.object(["x": .number(value)]).jsonString()
        #expect(plugin == host)
        #expect(JSONValue.number(value).typeName == (JSONNumber.isInteger(value) ? "integer" : "number"))
    }

    @Test func integersBelow2To53AreIntegersAndAboveAreNot() {
        #expect(JSONNumber.text(5e15) == "5000000000000000", "the SDK wrote 5e15 as a float before: its limit was 1e15")
        #expect(JSONNumber.text(9_007_199_254_740_991) == "9007199254740991")
        #expect(JSONNumber.text(9_007_199_254_740_992) == "9007199254740992.0", "2^53 and above: as a double")
        #expect(JSONNumber.text(.infinity) == nil)
    }

    /// The SDK's `JSON` is the host's `JSONValue`, and both read with one reader.
    @Test func oneValueTypeAndOneReader() throws {
        let source = #"{"a": [1, "two", null, true], "b": {"c": 1.5}}"#
        let asHost = try JSONValue(json: Array(source.utf8))
        let asPlugin = try bytes(source) { try PluginJSON.decode(JSON.self, from: $0) }
        #expect(asHost == asPlugin)
        #expect(asHost.serialized == asHost.jsonBytes())
        // 64-bit integers stay exact through the SDK's tree, read by the same reader.
        struct Big: Codable { var n: UInt64 }
        let big = try bytes(#"{"n": 18446744073709551615}"#) { try PluginJSON.decode(Big.self, from: $0) }
        #expect(big.n == .max)
    }

    func bytes<T>(_ json: String, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        let bytes = Array(json.utf8)
        return try bytes.withUnsafeBytes { try body($0) }
    }
}
