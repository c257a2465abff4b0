import Crypto
import Logging
import Synchronization
import TrellisCore
import TrellisStore

/// The router's exact-match response cache: answers by the SHA-256 of the
/// normalized request (alias, messages, parameters), least recently used
/// evicted first once their bytes pass the bound, each valid for the TTL.
/// Every answer is also kept in the store, so the cache survives a restart.
final class ResponseCache: Sendable {
    private struct Entry {
        var key: String
        var answer: JSONValue
        var bytes: Int
        var storedAt: Double
        var previous: Int?
        var next: Int?
    }

    /// Entries in a list, most recently used at `head`; slots are reused.
    private struct Table {
        var entries: [Entry?] = []
        var index: [String: Int] = [:]
        var free: [Int] = []
        var head: Int?
        var tail: Int?
        var bytes = 0

        mutating func unlink(_ slot: Int) {
            guard let entry = entries[slot] else { return }
            if let previous = entry.previous { entries[previous]?.next = entry.next } else { head = entry.next }
            if let next = entry.next { entries[next]?.previous = entry.previous } else { tail = entry.previous }
            entries[slot]?.previous = nil
            entries[slot]?.next = nil
        }

        mutating func pushFront(_ slot: Int) {
            entries[slot]?.next = head
            entries[slot]?.previous = nil
            if let head { entries[head]?.previous = slot }
            head = slot
            if tail == nil { tail = slot }
        }

        mutating func remove(_ slot: Int) -> Entry? {
            unlink(slot)
            guard let entry = entries[slot] else { return nil }
            entries[slot] = nil
            free.append(slot)
            index[entry.key] = nil
            bytes -= entry.bytes
            return entry
        }
    }

    let settings: RouterSettings.CacheSettings
    private let table = Mutex(Table())
    private let store: (any ModelStore)?
    private let redactor: Redactor
    private let logger: Logger
    private let counters = Mutex((hits: 0, misses: 0, evictions: 0))

    init(settings: RouterSettings.CacheSettings, store: (any ModelStore)?, redactor: Redactor, logger: Logger, now: Double) {
        self.settings = settings
        self.store = store
        self.redactor = redactor
        self.logger = logger
        // Reload what the store kept, newest first, within the bound.
        guard let store else { return }
        let kept: [CachedAnswer]
        do {
            kept = try store.cachedAnswers(since: now - settings.ttlSeconds)
        } catch {
            logger.warning("the model cache starts empty: the store's answers cannot be read", metadata: ["error": "\(error)"])
            return
        }
        var dropped: [String] = []
        table.withLock { table in
            for answer in kept.reversed() {   // oldest first, so the newest end up most recent
                guard let value = try? JSONValue(json: answer.answer) else {
                    dropped.append(answer.key)
                    continue
                }
                Self.insert(&table, key: answer.key, answer: value, bytes: answer.answer.count, storedAt: answer.storedAt,
                            limit: settings.maxBytes, evicted: &dropped)
            }
        }
        persist { try $0.deleteAnswers(keys: dropped) }
    }

    /// Writes to the store; a failure costs a cached answer, not a request, and is logged.
    private func persist(_ write: (any ModelStore) throws -> Void) {
        guard let store else { return }
        do {
            try write(store)
        } catch {
            logger.warning("the model cache could not keep its change in the store", metadata: ["error": "\(error)"])
        }
    }

    /// The key of a normalized request.
    static func key(alias: String, request: JSONValue) -> String {
        var bytes = Array(alias.utf8)
        bytes.append(0)
        bytes += request.jsonBytes()
        return SHA256.hash(data: bytes).prefix(16).map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 15)]], as: UTF8.self)
        }.joined()
    }

    /// The answer kept under `key`, when it is younger than the TTL.
    func answer(_ key: String, now: Double) -> JSONValue? {
        var expired: Entry?
        let found: JSONValue? = table.withLock { table in
            guard let slot = table.index[key], let entry = table.entries[slot] else { return nil }
            guard now - entry.storedAt < settings.ttlSeconds else {
                expired = table.remove(slot)
                return nil
            }
            table.unlink(slot)
            table.pushFront(slot)
            return entry.answer
        }
        counters.withLock { found == nil ? ($0.misses += 1) : ($0.hits += 1) }
        if let expired { persist { try $0.deleteAnswers(keys: [expired.key]) } }
        return found
    }

    /// Keeps `answer` (redacted: a secret the model repeated is not stored).
    func store(_ key: String, answer: JSONValue, now: Double) {
        let kept = redactor.redact(answer)
        let bytes = kept.jsonBytes()
        guard bytes.count <= settings.maxBytes else { return }
        var evicted: [String] = []
        table.withLock { table in
            Self.insert(&table, key: key, answer: kept, bytes: bytes.count, storedAt: now, limit: settings.maxBytes,
                        evicted: &evicted)
        }
        counters.withLock { $0.evictions += evicted.count }
        persist { try $0.storeAnswer(CachedAnswer(key: key, answer: bytes, storedAt: now)) }
        persist { try $0.deleteAnswers(keys: evicted) }
    }

    private static func insert(_ table: inout Table, key: String, answer: JSONValue, bytes: Int, storedAt: Double, limit: Int,
                               evicted: inout [String]) {
        if let slot = table.index[key] { _ = table.remove(slot) }
        let entry = Entry(key: key, answer: answer, bytes: bytes, storedAt: storedAt)
        let slot: Int
        if let reused = table.free.popLast() {
            slot = reused
            table.entries[slot] = entry
        } else {
            slot = table.entries.count
            table.entries.append(entry)
        }
        table.index[key] = slot
        table.bytes += bytes
        table.pushFront(slot)
        while table.bytes > limit, let last = table.tail, last != slot {
            if let gone = table.remove(last) { evicted.append(gone.key) }
        }
    }

    var statistics: (entries: Int, bytes: Int, hits: Int, misses: Int, evictions: Int) {
        let (entries, bytes) = table.withLock { ($0.index.count, $0.bytes) }
        let counts = counters.withLock { $0 }
        return (entries, bytes, counts.hits, counts.misses, counts.evictions)
    }
}
