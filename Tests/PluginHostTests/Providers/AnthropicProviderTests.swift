import Foundation
import Testing
import TrellisCore
import TrellisTestSupport
@testable import TrellisPluginHost

/// provider.anthropic against a loopback server speaking the Messages API.
@Suite struct AnthropicProviderTests {
    static let key = "sk-ant-test-KEY"

    static func server(_ seen: ReceivedRequests) throws -> LoopbackHTTPServer {
        try LoopbackHTTPServer { request in
            seen.append(request)
            guard request.target == "/v1/messages" else { return .init(status: 404) }
            guard request.header("x-api-key") == key, request.header("anthropic-version") == "2023-06-01" else {
                return .init(status: 401, text: #"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#)
            }
            let body = request.json
            let prompt = body["messages"]?.arrayValue?.last?["content"]?.stringValue ?? ""
            switch prompt {
            case "overloaded":
                return .init(status: 529, text: #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)
            case "limited":
                return .init(status: 429, headers: [("Retry-After", "2")],
                             text: #"{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}"#)
            case "long":
                return .init(status: 400, text: #"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#)
            case "poor":
                return .init(status: 400, text: #"{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}}"#)
            default: break
            }
            guard body["stream"] == true else {
                return .init(text: #"{"id":"msg_1","type":"message","role":"assistant","model":"claude-test","content":[{"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Oslo"}}],"stop_reason":"tool_use","usage":{"input_tokens":20,"output_tokens":9}}"#)
            }
            let start = sse([("message_start", #"{"type":"message_start","message":{"id":"msg_2","model":"claude-test","usage":{"input_tokens":11,"output_tokens":1}}}"#),
                             ("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
                             ("ping", #"{"type":"ping"}"#),
                             ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#),
                             ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" there"}}"#)])
            switch prompt {
            case "overload-mid":
                return .streamed(start + sse([("error", #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)]))
            case "cut":
                return .streamed(start + [.cut])
            default:
                return .streamed(start + sse([
                    ("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
                    ("content_block_start", #"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_2","name":"lookup","input":{}}}"#),
                    ("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"q\": "}}"#),
                    ("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"x\"}"}}"#),
                    ("content_block_stop", #"{"type":"content_block_stop","index":1}"#),
                    ("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":6}}"#),
                    ("message_stop", #"{"type":"message_stop"}"#),
                ]))
            }
        }
    }

    func provider(_ server: LoopbackHTTPServer) throws -> PluginInstance {
        try StampedDeployment().load("provider.anthropic", config: "{ base_url: \"\(server.url)\", model: claude-test }",
                                     secrets: ["api_key": Self.key])
    }

    @Test func systemGoesTopLevelAndToolUseComesBackNormalized() throws {
        let seen = ReceivedRequests()
        let anthropic = try provider(try Self.server(seen))
        let answer = try anthropic.complete([
            "messages": [["role": "system", "content": "Be brief."], ["role": "user", "content": "weather in Oslo"]],
            "tools": [["name": "get_weather", "parameters": ["type": "object"]]], "tool_choice": "required",
        ])
        #expect(answer["text"] == "Let me check.")
        #expect(answer["finish_reason"] == "tool_calls")
        #expect(answer["tool_calls"] == [["id": "toolu_1", "name": "get_weather", "arguments": ["city": "Oslo"]]])
        #expect(answer["usage"] == ["input_tokens": 20, "output_tokens": 9])
        let sent = try #require(seen.first).json
        #expect(sent["system"] == "Be brief.")
        #expect(sent["max_tokens"] == 1024, "the API requires max_tokens; the config's default is sent")
        #expect(sent["messages"] == [["role": "user", "content": "weather in Oslo"]])
        #expect(sent["tools"] == [["name": "get_weather", "input_schema": ["type": "object"]]])
        #expect(sent["tool_choice"] == ["type": "any"])

        _ = try anthropic.complete(["messages": [
            ["role": "user", "content": "weather in Oslo"],
            ["role": "assistant", "content": "", "tool_calls": [["id": "toolu_1", "name": "get_weather", "arguments": ["city": "Oslo"]]]],
            ["role": "tool", "tool_call_id": "toolu_1", "content": "4 degrees"],
        ]])
        let followUp = try #require(seen.all.last).json["messages"]?.arrayValue ?? []
        #expect(followUp[1] == ["role": "assistant", "content": [["type": "tool_use", "id": "toolu_1", "name": "get_weather",
                                                                  "input": ["city": "Oslo"]]]])
        #expect(followUp[2] == ["role": "user", "content": [["type": "tool_result", "tool_use_id": "toolu_1", "content": "4 degrees"]]])
    }

    @Test func aStreamOfEventTypesIncludingToolInputDeltas() throws {
        let anthropic = try provider(try Self.server(ReceivedRequests()))
        let pieces = StreamedText()
        let answer = try anthropic.complete(userHi, onChunk: pieces.take)
        #expect(pieces.all == ["Hi", " there"])
        #expect(answer["text"] == "Hi there")
        #expect(answer["finish_reason"] == "stop")
        #expect(answer["usage"] == ["input_tokens": 11, "output_tokens": 6])
        #expect(answer["tool_calls"] == [["id": "toolu_2", "name": "lookup", "arguments": ["q": "x"]]])
    }

    @Test func overloadAndLimitsAndRefusalsAreClassed() throws {
        let anthropic = try provider(try Self.server(ReceivedRequests()))
        func failure(_ prompt: String, stream: Bool = false) throws -> PluginCallError {
            try #require(throws: PluginCallError.self) {
                try anthropic.complete(["messages": [["role": "user", "content": .string(prompt)]]], onChunk: stream ? { _ in true } : nil)
            }
        }
        let overloaded = try failure("overloaded")
        #expect(overloaded.errorClass == .retryable)
        #expect(overloaded.reason == "overloaded")
        let limited = try failure("limited", stream: true)
        #expect(limited.errorClass == .rateLimited)
        #expect(limited.retryAfterMilliseconds == 2000)
        #expect(try failure("long").reason == "context_length")
        let poor = try failure("poor")
        #expect(poor.errorClass == .permanent)
        #expect(poor.reason == "quota")
        let mid = try failure("overload-mid", stream: true)
        #expect(mid.errorClass == .retryable)
        #expect(mid.reason == "stream_broken", "an error event after text began")
        #expect(try failure("cut", stream: true).reason == "stream_broken")
        for error in [overloaded, limited, poor, mid] { expectNoKey(error, Self.key) }
    }
}
