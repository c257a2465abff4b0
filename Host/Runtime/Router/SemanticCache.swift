import Crypto
import Synchronization
import TrellisCore
import TrellisPluginHost

/// The router's semantic cache: for a request the exact cache misses, the
/// prompt is embedded and compared (cosine similarity) with the prompts
/// answered before under the same alias and parameters; the answer of the
/// most similar one is served when it reaches the threshold. Entries live
/// in memory (the oldest go past `maxEntries`) for the cache's TTL; a
/// restarted host builds them again as requests come.
final class SemanticCache: Sendable {
    struct Entry {
        /// The alias and every parameter but the messages, hashed.
        var scope: String
        var vector: [Double]
        var answer: JSONValue
        var storedAt: Double
    }

    let settings: RouterSettings.SemanticCacheSettings
    let ttlSeconds: Double
    private let entries = Mutex<[Entry]>([])
    private let redactor: Redactor

    init(settings: RouterSettings.SemanticCacheSettings, ttlSeconds: Double, redactor: Redactor) {
        self.settings = settings
        self.ttlSeconds = ttlSeconds
        self.redactor = redactor
    }

    /// What a request is compared within: its alias and its parameters.
    static func scope(alias: String, request: JSONValue) -> String {
        var parameters = request.objectValue ?? [:]
        parameters["messages"] = nil
        var bytes = Array(alias.utf8)
        bytes.append(0)
        bytes += JSONValue.object(parameters).jsonBytes()
        return SHA256.hash(data: bytes).prefix(12).map { String($0, radix: 16) }.joined()
    }

    /// The text that is embedded: every message, role and content.
    static func prompt(_ request: JSONValue) -> String {
        (request["messages"]?.arrayValue ?? []).map { message in
            "\(message["role"]?.stringValue ?? ""): \(message["content"]?.stringValue ?? "")"
        }.joined(separator: "\n")
    }

    /// The embedding of `request`'s prompt, or nil when it cannot be had
    /// (the cache then misses; the request is not failed for it).
    func embed(_ request: JSONValue, plugins: (String) -> PluginInstance?, context: PluginCallContext) -> [Double]? {
        guard let plugin = plugins(settings.plugin), plugin.embeds else { return nil }
        var body: [String: JSONValue] = ["input": [.string(Self.prompt(request))]]
        if !settings.model.isEmpty { body["model"] = .string(settings.model) }
        guard let answer = try? plugin.embed(.object(body), context: context),
              let vector = answer["embeddings"]?.arrayValue?.first?.arrayValue?.compactMap(\.doubleValue), !vector.isEmpty
        else { return nil }
        return vector
    }

    /// The most similar answer within `scope`, with its similarity, when it reaches the threshold.
    func answer(scope: String, vector: [Double], now: Double) -> (answer: JSONValue, similarity: Double)? {
        entries.withLock { entries in
            entries.removeAll { now - $0.storedAt >= ttlSeconds }
            var best: (answer: JSONValue, similarity: Double)?
            for entry in entries where entry.scope == scope {
                let similarity = Self.cosine(entry.vector, vector)
                if similarity >= settings.threshold, similarity > (best?.similarity ?? -1) { best = (entry.answer, similarity) }
            }
            return best
        }
    }

    func store(scope: String, vector: [Double], answer: JSONValue, now: Double) {
        let kept = redactor.redact(answer)
        entries.withLock { entries in
            entries.append(Entry(scope: scope, vector: vector, answer: kept, storedAt: now))
            if entries.count > settings.maxEntries { entries.removeFirst(entries.count - settings.maxEntries) }
        }
    }

    static func cosine(_ a: [Double], _ b: [Double]) -> Double {
        guard a.count == b.count, !a.isEmpty else { return 0 }
        var dot = 0.0, normA = 0.0, normB = 0.0
        for index in a.indices {
            dot += a[index] * b[index]
            normA += a[index] * a[index]
            normB += b[index] * b[index]
        }
        guard normA > 0, normB > 0 else { return 0 }
        return dot / (normA.squareRoot() * normB.squareRoot())
    }
}
