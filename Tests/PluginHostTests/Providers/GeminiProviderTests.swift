import Foundation
import Testing
import TrellisCore
import TrellisTestSupport
@testable import TrellisPluginHost

/// provider.gemini against a loopback server speaking generateContent.
@Suite struct GeminiProviderTests {
    static let key = "AIza-test-KEY"

    static func server(_ seen: ReceivedRequests) throws -> LoopbackHTTPServer {
        try LoopbackHTTPServer { request in
            seen.append(request)
            guard request.header("x-goog-api-key") == key else {
                return .init(status: 400, text: #"{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT"}}"#)
            }
            let body = request.json
            if request.target.hasSuffix(":batchEmbedContents") {
                let count = body["requests"]?.arrayValue?.count ?? 0
                let rows = (0..<count).map { #"{"values":[\#($0),0.25]}"# }
                return .init(text: #"{"embeddings":[\#(rows.joined(separator: ","))]}"#)
            }
            let prompt = body["contents"]?.arrayValue?.last?["parts"]?.arrayValue?.first?["text"]?.stringValue ?? ""
            switch prompt {
            case "limited":
                return .init(status: 429, text: #"{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"7s"}]}}"#)
            case "blocked":
                return .init(text: #"{"promptFeedback":{"blockReason":"SAFETY"}}"#)
            case "unsafe":
                return .init(text: #"{"candidates":[{"content":{"parts":[],"role":"model"},"finishReason":"SAFETY"}]}"#)
            default: break
            }
            let usage = #""usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":3}"#
            if request.target.contains(":streamGenerateContent?alt=sse") {
                let parts = sse([(nil, #"{"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"}}]}"#),
                                 (nil, #"{"candidates":[{"content":{"parts":[{"text":"lo"}],"role":"model"}}]}"#)])
                if prompt == "cut" { return .streamed(parts + [.cut]) }
                return .streamed(parts + sse([(nil, #"{"candidates":[{"content":{"parts":[{"text":"!"}],"role":"model"},"finishReason":"STOP"}],\#(usage),"modelVersion":"gemini-test-001"}"#)]))
            }
            if prompt == "weather" {
                return .init(text: #"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"get_weather","args":{"city":"Oslo"}}}],"role":"model"},"finishReason":"STOP"}],\#(usage)}"#)
            }
            return .init(text: #"{"candidates":[{"content":{"parts":[{"text":"Hello"}],"role":"model"},"finishReason":"STOP"}],\#(usage)}"#)
        }
    }

    func provider(_ server: LoopbackHTTPServer) throws -> PluginInstance {
        try StampedDeployment().load("provider.gemini", config: "{ base_url: \"\(server.url)/v1beta\", model: gemini-test }",
                                     secrets: ["api_key": Self.key])
    }

    @Test func contentsPartsAndSystemInstructionInTheWireFormat() throws {
        let seen = ReceivedRequests()
        let gemini = try provider(try Self.server(seen))
        let answer = try gemini.complete([
            "messages": [["role": "system", "content": "Be brief."], ["role": "user", "content": "hi"]],
            "max_tokens": 20, "response_format": ["type": "json_schema", "schema": ["type": "object"]],
        ])
        #expect(answer == ["model": "gemini-test", "text": "Hello", "finish_reason": "stop",
                           "usage": ["input_tokens": 8, "output_tokens": 3]])
        let sent = try #require(seen.first)
        #expect(sent.target == "/v1beta/models/gemini-test:generateContent")
        #expect(sent.json["systemInstruction"] == ["parts": [["text": "Be brief."]]])
        #expect(sent.json["contents"] == [["role": "user", "parts": [["text": "hi"]]]])
        #expect(sent.json["generationConfig"] == ["maxOutputTokens": 20, "responseMimeType": "application/json",
                                                  "responseJsonSchema": ["type": "object"]])
    }

    @Test func functionCallsAndTheirResponses() throws {
        let seen = ReceivedRequests()
        let gemini = try provider(try Self.server(seen))
        let answer = try gemini.complete(["messages": [["role": "user", "content": "weather"]],
                                          "tools": [["name": "get_weather", "parameters": ["type": "object"]]]])
        #expect(answer["finish_reason"] == "tool_calls")
        let call = try #require(answer["tool_calls"]?.arrayValue?.first)
        #expect(call["name"] == "get_weather")
        #expect(call["arguments"] == ["city": "Oslo"])
        #expect(seen.first?.json["tools"] == [["functionDeclarations": [["name": "get_weather", "parameters": ["type": "object"]]]]])

        _ = try gemini.complete(["messages": [
            ["role": "user", "content": "weather"],
            ["role": "assistant", "content": "", "tool_calls": [["id": "c1", "name": "get_weather", "arguments": ["city": "Oslo"]]]],
            ["role": "tool", "tool_call_id": "c1", "content": "{\"temp\": 4}"],
        ]])
        let contents = try #require(seen.all.last).json["contents"]?.arrayValue ?? []
        #expect(contents[1] == ["role": "model", "parts": [["functionCall": ["name": "get_weather", "args": ["city": "Oslo"]]]]])
        #expect(contents[2] == ["role": "user", "parts": [["functionResponse": ["name": "get_weather", "response": ["temp": 4]]]]])
    }

    @Test func aStreamOverSSE() throws {
        let gemini = try provider(try Self.server(ReceivedRequests()))
        let pieces = StreamedText()
        let answer = try gemini.complete(userHi, onChunk: pieces.take)
        #expect(pieces.all == ["Hel", "lo", "!"])
        #expect(answer["model"] == "gemini-test-001")
        #expect(answer["usage"] == ["input_tokens": 8, "output_tokens": 3])
        let cut = try #require(throws: PluginCallError.self) {
            try gemini.complete(["messages": [["role": "user", "content": "cut"]]], onChunk: { _ in true })
        }
        #expect(cut.reason == "stream_broken")
    }

    @Test func blocksAndLimitsAreClassed() throws {
        let gemini = try provider(try Self.server(ReceivedRequests()))
        func failure(_ prompt: String) throws -> PluginCallError {
            try #require(throws: PluginCallError.self) { try gemini.complete(["messages": [["role": "user", "content": .string(prompt)]]]) }
        }
        let limited = try failure("limited")
        #expect(limited.errorClass == .rateLimited)
        #expect(limited.retryAfterMilliseconds == 7000, "RetryInfo's retryDelay")
        let blocked = try failure("blocked")
        #expect(blocked.reason == "content_policy")
        #expect(try failure("unsafe").reason == "content_policy")
        expectNoKey(limited, Self.key)
    }

    @Test func batchEmbeddings() throws {
        let gemini = try provider(try Self.server(ReceivedRequests()))
        let answer = try gemini.embed(["model": "text-embedding-test", "input": ["a", "b", "c"]])
        #expect(answer["embeddings"] == [[0, 0.25], [1, 0.25], [2, 0.25]])
    }
}
