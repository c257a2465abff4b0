import Foundation
import Testing
import TrellisCore
import TrellisTestSupport
@testable import TrellisPluginHost

/// provider.ollama against a loopback server speaking /api/chat (NDJSON).
@Suite struct OllamaProviderTests {
    static func server(_ seen: ReceivedRequests) throws -> LoopbackHTTPServer {
        try LoopbackHTTPServer { request in
            seen.append(request)
            let body = request.json
            if request.target == "/api/embed" {
                return .init(text: #"{"model":"nomic","embeddings":[[0.1,0.2],[0.3,0.4]],"prompt_eval_count":3}"#)
            }
            guard request.target == "/api/chat" else { return .init(status: 404) }
            let prompt = body["messages"]?.arrayValue?.last?["content"]?.stringValue ?? ""
            if prompt == "missing" { return .init(status: 404, text: #"{"error":"model \"nope\" not found, try pulling it first"}"#) }
            guard body["stream"] == true else {
                return .init(text: #"{"model":"llama3","message":{"role":"assistant","content":"Hello"},"done":true,"done_reason":"stop","prompt_eval_count":6,"eval_count":2}"#)
            }
            let lines: [LoopbackHTTPServer.Response.Part] = [
                .text(#"{"model":"llama3","message":{"role":"assistant","content":"Hel"},"done":false}"# + "\n"),
                .text(#"{"model":"llama3","message":{"role":"assistant","content":"lo"},"done":false}"# + "\n"),
            ]
            switch prompt {
            case "error-line": return .streamed(lines + [.text(#"{"error":"an unexpected error occurred"}"# + "\n")])
            case "ends-early": return .streamed(lines)
            default:
                return .streamed(lines + [.text(#"{"model":"llama3","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":6,"eval_count":2}"#)])
            }
        }
    }

    @Test func chatWholeAndStreamedAsNDJSON() throws {
        let seen = ReceivedRequests()
        let server = try Self.server(seen)
        let ollama = try StampedDeployment().load("provider.ollama", config: "{ base_url: \"\(server.url)\", model: llama3 }")
        let whole = try ollama.complete(["messages": [["role": "user", "content": "hi"]], "max_tokens": 10, "temperature": 0])
        #expect(whole == ["model": "llama3", "text": "Hello", "finish_reason": "stop", "usage": ["input_tokens": 6, "output_tokens": 2]])
        #expect(seen.first?.json["options"] == ["num_predict": 10, "temperature": 0])
        #expect(seen.first?.json["stream"] == false)

        let pieces = StreamedText()
        let streamed = try ollama.complete(userHi, onChunk: pieces.take)
        #expect(pieces.all == ["Hel", "lo"], "the last line has no line end and still counts")
        #expect(streamed["usage"] == ["input_tokens": 6, "output_tokens": 2])
    }

    @Test func errorsInTheStreamAndOfTheServer() throws {
        let server = try Self.server(ReceivedRequests())
        let ollama = try StampedDeployment().load("provider.ollama", config: "{ base_url: \"\(server.url)\", model: llama3 }")
        for prompt in ["error-line", "ends-early"] {
            let error = try #require(throws: PluginCallError.self) {
                try ollama.complete(["messages": [["role": "user", "content": .string(prompt)]]], onChunk: { _ in true })
            }
            #expect(error.reason == "stream_broken", "\(prompt): \(error)")
        }
        let missing = try #require(throws: PluginCallError.self) {
            try ollama.complete(["messages": [["role": "user", "content": "missing"]]])
        }
        #expect(missing.errorClass == .permanent)
        #expect(missing.message.contains("try pulling it first"))
    }

    @Test func embeddings() throws {
        let server = try Self.server(ReceivedRequests())
        let ollama = try StampedDeployment().load("provider.ollama", config: "{ base_url: \"\(server.url)\", embedding_model: nomic }")
        #expect(try ollama.embed(["input": ["a", "b"]]) == ["model": "nomic", "embeddings": [[0.1, 0.2], [0.3, 0.4]],
                                                             "usage": ["input_tokens": 3]])
    }
}
