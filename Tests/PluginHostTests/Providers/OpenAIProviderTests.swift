import Foundation
import Testing
import TrellisCore
import TrellisTestSupport
@testable import TrellisPluginHost

/// provider.openai against a loopback server speaking Chat Completions:
/// whole answers, SSE chunks up to [DONE], tool calls, embeddings, error
/// bodies, 429s, and streams that break in each way.
@Suite struct OpenAIProviderTests {
    static let key = "sk-test-0penai-KEY"

    static func chunk(_ delta: String, finish: String? = nil) -> String {
        let finishText = finish.map { "\"\($0)\"" } ?? "null"
        return #"{"object":"chat.completion.chunk","model":"gpt-test","choices":[{"index":0,"delta":\#(delta),"finish_reason":\#(finishText)}]}"#
    }

    static func server(_ seen: ReceivedRequests) throws -> LoopbackHTTPServer {
        try LoopbackHTTPServer { request in
            seen.append(request)
            guard request.header("Authorization") == "Bearer \(key)" || request.header("api-key") == key else {
                return .init(status: 401, text: #"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"#)
            }
            let body = request.json
            let prompt = body["messages"]?.arrayValue?.last?["content"]?.stringValue ?? ""
            if request.target.hasSuffix("/embeddings") {
                let rows = (body["input"]?.arrayValue ?? []).enumerated().reversed().map { index, _ in
                    #"{"object":"embedding","index":\#(index),"embedding":[\#(index).5,1,0]}"#
                }
                return .init(text: #"{"object":"list","model":"emb-test","data":[\#(rows.joined(separator: ","))],"usage":{"prompt_tokens":4,"total_tokens":4}}"#)
            }
            switch prompt {
            case "busy":
                return .init(status: 429, headers: [("Retry-After", "3")],
                             text: #"{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}"#)
            case "busy-body":
                return .init(status: 429, text: #"{"error":{"message":"Rate limit reached on tokens per min. Please try again in 1.5s.","type":"tokens","code":"rate_limit_exceeded"}}"#)
            case "broke":
                return .init(status: 429, text: #"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","code":"insufficient_quota"}}"#)
            case "long":
                return .init(status: 400, text: #"{"error":{"message":"This model's maximum context length is 8192 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}"#)
            case "rude":
                return .init(status: 400, text: #"{"error":{"message":"Your request was rejected as a result of our safety system.","type":"invalid_request_error","code":"content_policy_violation"}}"#)
            case "down":
                return .init(status: 503, text: #"{"error":{"message":"The engine is currently overloaded","type":"server_error"}}"#)
            default:
                break
            }
            guard body["stream"] == true else {
                if prompt == "weather" {
                    return .init(text: #"{"id":"c1","object":"chat.completion","model":"gpt-test","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":12,"completion_tokens":7}}"#)
                }
                return .init(text: #"{"id":"c1","object":"chat.completion","model":"gpt-test","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}"#)
            }
            let hello = sse([(nil, chunk(#"{"role":"assistant","content":""}"#)), (nil, chunk(#"{"content":"Hel"}"#)),
                             (nil, chunk(#"{"content":"lo"}"#))])
            switch prompt {
            case "cut":
                return .streamed(hello + [.cut])
            case "ends-early":
                return .streamed(hello)
            case "garbled":
                return .streamed(hello + [.text("data: {not json\n\n")])
            case "error-event":
                return .streamed(hello + sse([(nil, #"{"error":{"message":"The server had an error","type":"server_error"}}"#)]))
            case "weather":
                return .streamed(sse([
                    (nil, chunk(#"{"role":"assistant","tool_calls":[{"index":0,"id":"call_9","type":"function","function":{"name":"get_weather","arguments":""}}]}"#)),
                    (nil, chunk(#"{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}"#)),
                    (nil, chunk(#"{"tool_calls":[{"index":0,"function":{"arguments":"\"Oslo\"}"}}]}"#)),
                    (nil, chunk("{}", finish: "tool_calls")), (nil, "[DONE]"),
                ]))
            default:
                return .streamed([.text(": keep-alive\n\n")] + hello + sse([
                    (nil, chunk("{}", finish: "stop")),
                    (nil, #"{"object":"chat.completion.chunk","model":"gpt-test","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#),
                    (nil, "[DONE]"),
                ]))
            }
        }
    }

    func provider(_ server: LoopbackHTTPServer, config: String = "") throws -> PluginInstance {
        try StampedDeployment().load("provider.openai", config: "{ base_url: \"\(server.url)/v1\", model: gpt-test\(config) }",
                                     secrets: ["api_key": Self.key])
    }

    @Test func aWholeAnswerWithItsRequestInTheWireFormat() throws {
        let seen = ReceivedRequests()
        let server = try Self.server(seen)
        let openai = try provider(server, config: ", max_tokens_field: max_completion_tokens")
        let answer = try openai.complete([
            "messages": [["role": "system", "content": "Be brief."], ["role": "user", "content": "hi"]],
            "max_tokens": 50, "temperature": 0.2, "stop": ["\n\n"],
            "response_format": ["type": "json_schema", "name": "greeting", "schema": ["type": "object"]],
        ])
        #expect(answer == ["model": "gpt-test", "text": "Hello there", "finish_reason": "stop",
                           "usage": ["input_tokens": 5, "output_tokens": 2]])
        let sent = try #require(seen.first)
        #expect(sent.target == "/v1/chat/completions")
        #expect(sent.json["max_completion_tokens"] == 50)
        #expect(sent.json["max_tokens"] == nil)
        #expect(sent.json["messages"]?.arrayValue?.first == ["role": "system", "content": "Be brief."])
        #expect(sent.json["response_format"] == ["type": "json_schema",
                                                 "json_schema": ["name": "greeting", "schema": ["type": "object"], "strict": true]])
        #expect(sent.json["stop"] == ["\n\n"])
    }

    @Test func toolCallsGoOutAndComeBackNormalized() throws {
        let seen = ReceivedRequests()
        let server = try Self.server(seen)
        let openai = try provider(server)
        let tools: JSONValue = [["name": "get_weather", "description": "Weather by city",
                                 "parameters": ["type": "object", "properties": ["city": ["type": "string"]]]]]
        let answer = try openai.complete(["messages": [["role": "user", "content": "weather"]], "tools": tools,
                                          "tool_choice": ["name": "get_weather"]])
        #expect(answer["finish_reason"] == "tool_calls")
        #expect(answer["tool_calls"] == [["id": "call_1", "name": "get_weather", "arguments": ["city": "Oslo"]]])
        let sent = try #require(seen.first).json
        #expect(sent["tools"]?.arrayValue?.first?["type"] == "function")
        #expect(sent["tools"]?.arrayValue?.first?["function"]?["name"] == "get_weather")
        #expect(sent["tool_choice"] == ["type": "function", "function": ["name": "get_weather"]])

        // The conversation goes on with the call and its result.
        _ = try openai.complete(["messages": [
            ["role": "user", "content": "weather"],
            ["role": "assistant", "content": "", "tool_calls": [["id": "call_1", "name": "get_weather", "arguments": ["city": "Oslo"]]]],
            ["role": "tool", "tool_call_id": "call_1", "content": "{\"temp\": 4}"],
        ]])
        let followUp = try #require(seen.all.last).json["messages"]?.arrayValue ?? []
        #expect(followUp[1]["tool_calls"]?.arrayValue?.first?["function"]?["arguments"] == "{\"city\":\"Oslo\"}")
        #expect(followUp[1]["content"] == .null)
        #expect(followUp[2]["tool_call_id"] == "call_1")

        let streamed = try openai.complete(["messages": [["role": "user", "content": "weather"]], "tools": tools],
                                           onChunk: { _ in true })
        #expect(streamed["tool_calls"] == [["id": "call_9", "name": "get_weather", "arguments": ["city": "Oslo"]]])
    }

    @Test func aStreamArrivesInPiecesWithUsageFromItsLastChunk() throws {
        let seen = ReceivedRequests()
        let server = try Self.server(seen)
        let openai = try provider(server)
        let pieces = StreamedText()
        let answer = try openai.complete(userHi, onChunk: pieces.take)
        #expect(pieces.all == ["Hel", "lo"])
        #expect(answer["text"] == "Hello")
        #expect(answer["usage"] == ["input_tokens": 5, "output_tokens": 2])
        #expect(try #require(seen.first).json["stream_options"] == ["include_usage": true])
    }

    @Test(arguments: ["cut", "ends-early", "garbled", "error-event"])
    func aStreamThatBreaksAfterItBeganIsStreamBroken(_ how: String) throws {
        let server = try Self.server(ReceivedRequests())
        let openai = try provider(server)
        let pieces = StreamedText()
        let error = try #require(throws: PluginCallError.self) {
            try openai.complete(["messages": [["role": "user", "content": .string(how)]]], onChunk: pieces.take)
        }
        #expect(pieces.joined == "Hello", "the text before the break was streamed")
        #expect(error.errorClass == .retryable, "\(error)")
        #expect(error.reason == "stream_broken", "\(error)")
    }

    @Test func errorsAreClassedWithTheirReasons() throws {
        let server = try Self.server(ReceivedRequests())
        let openai = try provider(server)
        func failure(_ prompt: String, stream: Bool = false) throws -> PluginCallError {
            try #require(throws: PluginCallError.self) {
                try openai.complete(["messages": [["role": "user", "content": .string(prompt)]]],
                                    onChunk: stream ? { _ in true } : nil)
            }
        }
        let busy = try failure("busy")
        #expect(busy.errorClass == .rateLimited)
        #expect(busy.retryAfterMilliseconds == 3000)
        let busyBody = try failure("busy-body", stream: true)
        #expect(busyBody.errorClass == .rateLimited)
        #expect(busyBody.retryAfterMilliseconds == 1500, "the wait written in the body")
        let broke = try failure("broke")
        #expect(broke.errorClass == .permanent)
        #expect(broke.reason == "quota")
        let long = try failure("long", stream: true)
        #expect(long.errorClass == .permanent)
        #expect(long.reason == "context_length")
        let rude = try failure("rude")
        #expect(rude.reason == "content_policy")
        let down = try failure("down")
        #expect(down.errorClass == .retryable)
        for error in [busy, busyBody, broke, long, rude, down] { expectNoKey(error, Self.key) }

        let wrongKey = try StampedDeployment().load("provider.openai", config: "{ base_url: \"\(server.url)/v1\", model: m }",
                                                    secrets: ["api_key": "sk-wrong"])
        let refused = try #require(throws: PluginCallError.self) { try wrongKey.complete(userHi) }
        #expect(refused.errorClass == .config)
        #expect(refused.message.contains("Incorrect API key"))
        #expect(!refused.message.contains("sk-wrong"))
    }

    @Test func azureStyleDeploymentsUseAnApiKeyHeaderAndAQuery() throws {
        let seen = ReceivedRequests()
        let server = try Self.server(seen)
        let azure = try StampedDeployment().load(
            "provider.openai",
            config: "{ base_url: \"\(server.url)/openai/deployments/gpt4o/\", auth: api-key, query: { api-version: 2024-10-21 }, model: gpt4o }",
            secrets: ["api_key": Self.key])
        _ = try azure.complete(userHi)
        let sent = try #require(seen.first)
        #expect(sent.target == "/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21")
        #expect(sent.header("api-key") == Self.key)
        #expect(sent.header("Authorization") == nil)
    }

    @Test func embeddingsComeBackInInputOrder() throws {
        let server = try Self.server(ReceivedRequests())
        let openai = try provider(server)
        #expect(openai.embeds)
        let answer = try openai.embed(["model": "emb-test", "input": ["a", "b"]])
        #expect(answer == ["model": "emb-test", "embeddings": [[0.5, 1, 0], [1.5, 1, 0]], "usage": ["input_tokens": 4]])
    }

    @Test func aFinishedStreamLeavesItsConnectionForTheNextRequest() throws {
        // Events in a kept-alive response: once [DONE] came, the rest is read, not cut.
        let events = #"data: {"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}"# + "\n\n" + "data: [DONE]\n\n"
        let server = try LoopbackHTTPServer { _ in .init(headers: [("Content-Type", "text/event-stream")], text: events) }
        let openai = try StampedDeployment().load("provider.openai", config: "{ base_url: \"\(server.url)/v1\", model: m }")
        for _ in 0..<3 { #expect(try openai.complete(userHi, onChunk: { _ in true })["text"] == "hi") }
        #expect(server.connectionsAccepted == 1, "one connection for three streamed answers")
        // A reader that stops early cuts the transfer (and so its connection).
        _ = try? openai.complete(userHi, onChunk: { _ in false })
        #expect(try openai.complete(userHi, onChunk: { _ in true })["text"] == "hi")
    }

    @Test func aLocalServerNeedsNoKey() throws {
        let seen = ReceivedRequests()
        let server = try LoopbackHTTPServer { request in
            seen.append(request)
            return .init(text: #"{"model":"llama","choices":[{"message":{"content":"ok"},"finish_reason":"stop"}]}"#)
        }
        let local = try StampedDeployment().load("provider.openai", config: "{ base_url: \"\(server.url)/v1\", model: llama }")
        #expect(try local.complete(userHi)["text"] == "ok")
        #expect(try #require(seen.first).header("Authorization") == nil)
    }
}
