import Foundation
import Synchronization
import Testing
import TrellisCore
import TrellisTestSupport
@testable import TrellisPluginHost

/// Server-sent events (see `LoopbackHTTPServer.Response.serverSentEvents`).
func sse(_ events: [(name: String?, data: String)]) -> [LoopbackHTTPServer.Response.Part] {
    LoopbackHTTPServer.Response.serverSentEvents(events)
}

/// Collects streamed text pieces.
final class StreamedText: Sendable {
    private let pieces = Mutex<[String]>([])
    func take(_ piece: String) -> Bool {
        pieces.withLock { $0.append(piece) }
        return true
    }

    var all: [String] { pieces.withLock { $0 } }
    var joined: String { all.joined() }
}

extension LoopbackHTTPServer.Request {
    /// The request's JSON body.
    var json: JSONValue { (try? JSONValue(json: body)) ?? .null }
}

let userHi: JSONValue = ["messages": [["role": "user", "content": "hi"]]]

/// What every provider error must keep out of its message.
func expectNoKey(_ error: PluginCallError, _ key: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    #expect(!error.message.contains(key), "the API key leaked into: \(error.message)", sourceLocation: sourceLocation)
}
