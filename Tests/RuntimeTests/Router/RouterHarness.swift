import Foundation
import Logging
import Synchronization
import Testing
import TrellisCore
import TrellisPluginHost
import TrellisStore
import TrellisTestSupport
@testable import TrellisRuntime

/// A model API on 127.0.0.1 whose behaviour each model name picks, spoken
/// in OpenAI's wire format at /v1/chat/completions and in Anthropic's at
/// /v1/messages, so one server plays many deployments of real providers:
///
/// - `good-…` answers "answer from MODEL" (" (continued)" after a partial assistant message)
/// - `down` answers 500; `limited` 429 with Retry-After: 7; `limited-once` 429 once, then answers
/// - `small` refuses as too long for its context window; `prude` on content grounds
/// - `flaky-once` answers 503 once, then answers
/// - `cutter` streams "Hel", "lo" and drops the connection; `staller` streams "Hel" and goes quiet
/// - `say-TEXT` answers TEXT; `json-fixer` answers prose until told of the schema, then `{"n": 3}`;
///   `json-wrong` answers `{"n": "three"}` whatever it is told
final class ModelServer: @unchecked Sendable {
    /// What the server received: requests by model, and every body.
    final class Log: Sendable {
        let hits = Mutex<[String: Int]>([:])
        let seen = Mutex<[JSONValue]>([])
    }

    let server: LoopbackHTTPServer
    let log = Log()

    static let key = "sk-router-secret-KEY"

    init() throws {
        let log = log
        server = try LoopbackHTTPServer { request in
            let body = (try? JSONValue(json: request.body)) ?? .null
            let model = body["model"]?.stringValue ?? ""
            let count = log.hits.withLock { hits in
                hits[model, default: 0] += 1
                return hits[model]!
            }
            log.seen.withLock { $0.append(body) }
            if request.target.hasSuffix("/embeddings") {
                // Letter counts: prompts with the same letters are the same to it.
                let rows = (body["input"]?.arrayValue ?? []).enumerated().map { index, text in
                    var counts = [Int](repeating: 0, count: 26)
                    for byte in (text.stringValue ?? "").lowercased().utf8 where (97...122).contains(byte) { counts[Int(byte) - 97] += 1 }
                    return #"{"index":\#(index),"embedding":[\#(counts.map(String.init).joined(separator: ","))]}"#
                }
                return .init(text: #"{"model":"letters","data":[\#(rows.joined(separator: ","))],"usage":{"prompt_tokens":1}}"#)
            }
            let anthropic = request.target == "/v1/messages"
            let stream = body["stream"] == true
            let continues = body["messages"]?.arrayValue?.last?["role"] == "assistant"
            func answer(_ text: String) -> LoopbackHTTPServer.Response {
                if anthropic {
                    guard stream else {
                        return .init(text: #"{"model":"\#(model)","content":[{"type":"text","text":"\#(text)"}],"stop_reason":"end_turn","usage":{"input_tokens":10,"output_tokens":4}}"#)
                    }
                    return .streamed(sse([
                        ("message_start", #"{"type":"message_start","message":{"model":"\#(model)","usage":{"input_tokens":10,"output_tokens":0}}}"#),
                        ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\#(text)"}}"#),
                        ("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":4}}"#),
                        ("message_stop", #"{"type":"message_stop"}"#)]))
                }
                guard stream else {
                    return .init(text: #"{"model":"\#(model)","choices":[{"message":{"content":"\#(text)"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":4}}"#)
                }
                return .streamed(sse([(nil, Self.chunk(text)), (nil, Self.chunk("", finish: "stop")),
                                      (nil, #"{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":4}}"#), (nil, "[DONE]")]))
            }
            if model.hasPrefix("say-") { return answer(Self.escaped(String(model.dropFirst(4)))) }
            switch model {
            case "json-fixer":
                // Prose first; JSON once told what was wrong.
                let told = body["messages"]?.arrayValue?.last?["content"]?.stringValue?.contains("does not match the JSON Schema") == true
                return answer(told ? Self.escaped(#"{"n": 3}"#) : "three, I think")
            case "json-wrong":
                return answer(Self.escaped(#"{"n": "three"}"#))
            case "down": return .init(status: 500, text: #"{"error":{"message":"internal error","type":"server_error"}}"#)
            case "limited": return .init(status: 429, headers: [("Retry-After", "7")], text: #"{"error":{"message":"slow down"}}"#)
            case "limited-once" where count == 1:
                return .init(status: 429, headers: [("Retry-After", "7")], text: #"{"error":{"message":"slow down"}}"#)
            case "flaky-once" where count == 1: return .init(status: 503, text: #"{"error":{"message":"try later"}}"#)
            case "small":
                return .init(status: 400, text: #"{"error":{"message":"maximum context length is 10 tokens","code":"context_length_exceeded"}}"#)
            case "prude":
                return .init(status: 400, text: #"{"error":{"message":"rejected by the safety system","code":"content_policy_violation"}}"#)
            case "cutter" where stream:
                return .streamed(sse([(nil, Self.chunk("Hel")), (nil, Self.chunk("lo"))]) + [.cut])
            case "staller" where stream:
                return .streamed(sse([(nil, Self.chunk("Hel"))]) + [.pause(30), .cut])
            default:
                return answer(continues ? " (continued)" : "answer from \(model)")
            }
        }
    }

    /// `text` as it goes inside a JSON string (without the quotes).
    static func escaped(_ text: String) -> String { String(JSONValue.string(text).jsonString().dropFirst().dropLast()) }

    static func chunk(_ text: String, finish: String? = nil) -> String {
        #"{"choices":[{"index":0,"delta":{"content":"\#(text)"},"finish_reason":\#(finish.map { "\"\($0)\"" } ?? "null")}]}"#
    }

    func hits(_ model: String) -> Int { log.hits.withLock { $0[model] ?? 0 } }
    var url: String { server.url }
}

/// Server-sent events (see `LoopbackHTTPServer.Response.serverSentEvents`).
func sse(_ events: [(name: String?, data: String)]) -> [LoopbackHTTPServer.Response.Part] {
    LoopbackHTTPServer.Response.serverSentEvents(events)
}

/// provider.openai and provider.anthropic pointed at a `ModelServer`, with
/// provider.offline and the retry strategy, over a real SQLite store, and
/// a router built from `models:` YAML, on a clock the test moves.
final class RouterHarness: @unchecked Sendable {
    let directory: String
    let models = try! ModelServer()
    let plugins: PluginManager
    let store: SQLiteStore
    let clock = TestClock()
    let configuration: DeploymentConfiguration
    var router: ModelRouter!

    /// `plugins` adds entries under the config's `plugins:` (two-space indented, as written there).
    init(_ modelsYAML: String, plugins extraPlugins: String = "", random: @escaping @Sendable () -> Double = { 0 }) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-router-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let registry = "\(directory)/registry"
        try PluginRegistry.stamp(source: Checkout.registry, libraries: Build.directory, output: registry)
        try ModelServer.key.write(toFile: "\(directory)/key", atomically: true, encoding: .utf8)
        let yaml = """
            registry: [\(registry)]
            store: \(directory)/trellis.db
            plugins:
              provider.openai:
                egress: [127.0.0.1]
                config: { base_url: "\(models.url)/v1" }
                secrets: { api_key: "${file:\(directory)/key}" }
              provider.anthropic:
                egress: [127.0.0.1]
                config: { base_url: "\(models.url)" }
                secrets: { api_key: "${file:\(directory)/key}" }
              provider.offline:
              recovery.retry:
            \(extraPlugins)
            \(modelsYAML)
            """
        configuration = try DeploymentConfiguration.parse(text: yaml, file: "\(directory)/trellis.yaml",
                                                          defaultPluginPaths: [Build.directory])
        plugins = PluginManager(configuration: configuration, logger: Logger(label: "trellis.tests"))
        plugins.loadAll()
        for id in ["provider.openai", "provider.anthropic", "provider.offline", "recovery.retry"] where plugins.instance(id) == nil {
            throw HarnessError(message: "\(id) did not load: \(plugins.status(id)?.reason ?? "unknown")")
        }
        store = try SQLiteStore(path: "\(directory)/trellis.db")
        router = try makeRouter(random: random)
    }

    /// A router as a restarted host builds it: same config and store.
    func makeRouter(random: @escaping @Sendable () -> Double = { 0 }) throws -> ModelRouter {
        let clock = clock
        let plugins = plugins
        return ModelRouter(
            settings: try RouterSettings.parse(configuration), plugins: { plugins.instance($0) }, store: store,
            clock: RouterClock(now: { clock.now }, sleep: { seconds, cancellation in
                clock.advance(seconds)
                return cancellation?.isCancelled != true
            }),
            random: random, logger: Logger(label: "trellis.tests"))
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func ask(_ model: String, _ prompt: String = "hi", stream: Bool = false, extra: [String: JSONValue] = [:],
             runID: String? = nil, workflow: String? = nil) throws(RouterError) -> (RoutedAnswer, [ModelRouter.StreamEvent]) {
        var body: [String: JSONValue] = ["messages": [["role": "user", "content": .string(prompt)]]]
        for (key, value) in extra { body[key] = value }
        let events = Mutex<[ModelRouter.StreamEvent]>([])
        let answer = try router.complete(
            ModelRouter.Request(model: model, body: .object(body), runID: runID, workflow: workflow), context: .none,
            onStream: stream ? { event in events.withLock { $0.append(event) }; return true } : nil)
        return (answer, events.withLock { $0 })
    }
}
