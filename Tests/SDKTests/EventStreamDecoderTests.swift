import Testing
@testable import TrellisSDK

/// The streamed-answer reader every provider uses: what arrives from the
/// network in pieces of any size.
@Suite struct EventStreamDecoderTests {
    func feed(_ decoder: inout EventStreamDecoder, _ text: String, pieceSize: Int) throws -> [EventStreamDecoder.Event] {
        let bytes = Array(text.utf8)
        var events: [EventStreamDecoder.Event] = []
        var index = 0
        while index < bytes.count {
            events += try decoder.feed(Array(bytes[index..<min(bytes.count, index + pieceSize)]))
            index += pieceSize
        }
        return events + decoder.finish()
    }

    @Test(arguments: [1, 2, 7, 1000])
    func serverSentEventsInPiecesOfAnySize(pieceSize: Int) throws {
        var decoder = EventStreamDecoder(.serverSentEvents)
        let text = ": keep-alive\r\nevent: delta\r\ndata: {\"a\":1}\r\n\r\ndata:two\ndata: lines\n\nid: 7\nretry: 10\n\ndata: last"
        let events = try feed(&decoder, text, pieceSize: pieceSize)
        #expect(events == [.init(name: "delta", data: #"{"a":1}"#), .init(name: "", data: "two\nlines"), .init(name: "", data: "last")])
    }

    @Test(arguments: [1, 5, 1000])
    func linesWithAndWithoutTheirLastEnd(pieceSize: Int) throws {
        var decoder = EventStreamDecoder(.lines)
        let events = try feed(&decoder, "{\"a\":1}\n\n  \r\n{\"b\":2}", pieceSize: pieceSize)
        #expect(events.map(\.data) == [#"{"a":1}"#, #"{"b":2}"#])
    }

    @Test func aLineLongerThanTheBoundBreaksTheStream() throws {
        var decoder = EventStreamDecoder(.serverSentEvents, maxLineBytes: 16)
        let error = try #require(throws: PluginError.self) { try decoder.feed(Array("data: ".utf8) + Array(repeating: 65, count: 100)) }
        #expect(error.code == .retryable)
        #expect(error.reason == "stream_broken")
    }
}
