import Crypto
import Foundation
import Logging
import Synchronization
import TrellisCore
import TrellisPluginHost
import TrellisRuntime
import TrellisStore
import TrellisTestSupport

/// The model router's own cost, against a model API on 127.0.0.1 that
/// answers at once (OpenAI's wire format): each figure beside the limit
/// measured in the same run.
///
/// - raw: the same POST through the host's HTTP client, its answer parsed
///   (the loopback exchange itself)
/// - plugin: provider.openai called directly
/// - router: the same request routed through a group of one deployment
///   (cache off); the router's overhead is router − plugin
/// - the same three streamed (three SSE chunks, usage and [DONE], in one
///   kept-alive response the client reads as a stream)
/// - a cache hit (no network), and requests/s with `inFlight` at once
public struct AIBenchmark: Sendable {
    public struct Result: Sendable, Encodable {
        public var requests: Int
        public var rawMicroseconds: Double
        public var pluginMicroseconds: Double
        public var routerMicroseconds: Double
        public var routerOverheadMicroseconds: Double
        public var streamRawMicroseconds: Double
        public var streamPluginMicroseconds: Double
        public var streamRouterMicroseconds: Double
        public var streamRouterOverheadMicroseconds: Double
        public var cacheHitMicroseconds: Double
        /// The least any exact cache does, measured in the same run: the
        /// request serialized, hashed with SHA-256 and looked up in a locked dictionary.
        public var bareLookupMicroseconds: Double
        public var inFlight: Int
        public var routerRequestsPerSecond: Double
        public var rawRequestsPerSecond: Double
    }

    public var requests: Int
    public var inFlight: Int
    public var rounds: Int

    public init(requests: Int, inFlight: Int, rounds: Int) {
        self.requests = requests
        self.inFlight = inFlight
        self.rounds = rounds
    }

    static let answer = #"{"id":"c","object":"chat.completion","model":"instant","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there, from a model that answers at once."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":9}}"#

    static func chunk(_ text: String, _ finish: String = "null") -> String {
        #"{"object":"chat.completion.chunk","model":"instant","choices":[{"index":0,"delta":{"content":"\#(text)"},"finish_reason":\#(finish)}]}"#
    }

    public func run(registry: String, libraries: String, directory: String, logger: Logger) throws -> Result {
        // The events in one kept-alive response: the client reads them as a
        // stream all the same, and the server spends no thread or connection on each.
        let events = LoopbackHTTPServer.Response.serverSentEvents([
            (nil, Self.chunk("Hello there,")), (nil, Self.chunk(" from a model")), (nil, Self.chunk(" that answers at once.", "\"stop\"")),
            (nil, #"{"object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":9}}"#), (nil, "[DONE]"),
        ]).map { part -> String in if case .text(let text) = part { text } else { "" } }.joined()
        let stream = LoopbackHTTPServer.Response(headers: [("Content-Type", "text/event-stream")], text: events)
        let server = try LoopbackHTTPServer { request in
            request.text.contains(#""stream":true"#) ? stream : .init(headers: [("Content-Type", "application/json")], text: Self.answer)
        }
        let yaml = """
            registry: [\(registry)]
            plugin_paths: [\(libraries)]
            store: trellis.db
            plugins:
              provider.openai:
                egress: [127.0.0.1]
                config: { base_url: "\(server.url)/v1" }
            models:
              cache: { ttl: 1h }
              groups:
                instant:
                  deployments: [{ plugin: provider.openai, model: instant, price: { input: 0.15, output: 0.6 } }]
            """
        let deployment = try DeploymentConfiguration.parse(text: yaml, file: "\(directory)/trellis.yaml", defaultPluginPaths: [libraries])
        let plugins = PluginManager(configuration: deployment, logger: logger)
        if let failure = plugins.load(only: ["provider.openai"]).first(where: { $0.state != .ok }) {
            throw BenchmarkError("cannot load \(failure.id): \(failure.reason ?? "unknown")")
        }
        guard let openai = plugins.instance("provider.openai") else { throw BenchmarkError("provider.openai did not load") }
        let store = try SQLiteStore(path: deployment.storePath)
        let router = ModelRouter(settings: try RouterSettings.parse(deployment), plugins: { plugins.instance($0) }, store: store,
                                 logger: logger)
        defer { router.stop() }
        let client = HTTPClient()
        let body: JSONValue = ["messages": [["role": "user", "content": "Say hello."]], "max_tokens": 20]
        var wire = body
        if case .object(var object) = wire { object["model"] = "instant"; wire = .object(object) }
        let wireBytes = wire.jsonBytes()
        var streamed = wire
        if case .object(var object) = streamed { object["stream"] = true; streamed = .object(object) }
        let streamedBytes = streamed.jsonBytes()
        let request = ModelRouter.Request(model: "instant", body: body, useCache: false)

        func raw() throws {
            let response = try client.perform(HTTPRequest(method: "POST", url: "\(server.url)/v1/chat/completions",
                                                          headers: [HTTPHeader("Content-Type", "application/json")], body: wireBytes))
            _ = try JSONValue(json: response.body)
        }
        func rawStream() throws {
            var received = 0
            _ = try client.stream(HTTPRequest(method: "POST", url: "\(server.url)/v1/chat/completions",
                                              headers: [HTTPHeader("Content-Type", "application/json")], body: streamedBytes),
                                  onHead: { _ in }, onBody: { bytes in received += bytes.count; return true })
        }
        func plugin() throws { _ = try openai.complete(wire) }
        func pluginStream() throws { _ = try openai.complete(wire, onChunk: { _ in true }) }
        func routed() throws { _ = try router.complete(request, context: .none) }
        func routedStream() throws { _ = try router.complete(request, context: .none, onStream: { _ in true }) }

        // Warm connections and caches.
        for step in [raw, rawStream, plugin, pluginStream, routed, routedStream] { for _ in 0..<50 { try step() } }
        // Rounds interleave the paths, so drift on the machine touches each alike.
        func median(_ body: () throws -> Void) throws -> Double {
            var rounds: [Double] = []
            for _ in 0..<self.rounds {
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<requests { try body() }
                rounds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000 / Double(requests))
            }
            return rounds.sorted()[rounds.count / 2]
        }
        var samples: [String: [Double]] = [:]
        for _ in 0..<3 {
            for (name, body) in [("raw", raw), ("plugin", plugin), ("router", routed),
                                 ("raw-stream", rawStream), ("plugin-stream", pluginStream), ("router-stream", routedStream)] {
                samples[name, default: []].append(try median(body))
            }
        }
        func figure(_ name: String) -> Double { (samples[name] ?? [0]).sorted()[(samples[name]?.count ?? 1) / 2] }

        // Cache hits: the same request, answered from memory.
        let cached = ModelRouter.Request(model: "instant", body: body)
        _ = try router.complete(cached, context: .none)
        let hits = try median { _ = try router.complete(cached, context: .none) }
        let table = Mutex<[String: JSONValue]>([ResponseKey.of(cached.body): ["text": "cached"]])
        let bare = try median { _ = table.withLock { $0[ResponseKey.of(cached.body)] } }

        // `inFlight` threads, each making requests one after another for 2 s;
        // a failed request is counted, and fails the benchmark (a rate of errors measures nothing).
        func throughput(_ body: @escaping @Sendable () throws -> Void) throws -> Double {
            let done = Atomic<Int>(0)
            let failures = Mutex<[String]>([])
            let end = DispatchTime.now().uptimeNanoseconds + 2_000_000_000
            let started = DispatchTime.now().uptimeNanoseconds
            DispatchQueue.concurrentPerform(iterations: inFlight) { _ in
                while DispatchTime.now().uptimeNanoseconds < end {
                    do {
                        try body()
                        done.add(1, ordering: .relaxed)
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
            }
            if let failure = failures.withLock({ $0.first }) {
                throw BenchmarkError("\(failures.withLock { $0.count }) of the requests in flight failed, the first with: \(failure)")
            }
            return Double(done.load(ordering: .relaxed)) / (Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
        }
        let routerRate = try throughput { _ = try router.complete(request, context: .none) }
        let rawRate = try throughput {
            let response = try client.perform(HTTPRequest(method: "POST", url: "\(server.url)/v1/chat/completions",
                                                          headers: [HTTPHeader("Content-Type", "application/json")], body: wireBytes))
            _ = try JSONValue(json: response.body)
        }
        return Result(
            requests: requests, rawMicroseconds: figure("raw"), pluginMicroseconds: figure("plugin"),
            routerMicroseconds: figure("router"), routerOverheadMicroseconds: figure("router") - figure("plugin"),
            streamRawMicroseconds: figure("raw-stream"), streamPluginMicroseconds: figure("plugin-stream"),
            streamRouterMicroseconds: figure("router-stream"),
            streamRouterOverheadMicroseconds: figure("router-stream") - figure("plugin-stream"),
            cacheHitMicroseconds: hits, bareLookupMicroseconds: bare, inFlight: inFlight, routerRequestsPerSecond: routerRate, rawRequestsPerSecond: rawRate)
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A bare cache key: the request's bytes hashed, as hex (the limit a cache hit is measured against).
enum ResponseKey {
    static func of(_ request: JSONValue) -> String {
        SHA256.hash(data: request.jsonBytes()).map { String($0, radix: 16) }.joined()
    }
}
