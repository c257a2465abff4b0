import Foundation
import GRDB
import TrellisCore

extension SQLiteStore: ModelStore {
    public func cachedAnswers(since: Double) throws(StoreError) -> [CachedAnswer] {
        do {
            return try database.read { db in
                try Row.fetchAll(db, sql: "SELECT key, answer, stored_at FROM model_cache WHERE stored_at >= ? ORDER BY stored_at DESC",
                                 arguments: [since]).map { row in
                    CachedAnswer(key: row["key"], answer: Array(row["answer"] as Data), storedAt: row["stored_at"])
                }
            }
        } catch {
            throw StoreError(.unavailable, "reading cached model answers failed: \(error)", cause: error)
        }
    }

    public func storeAnswer(_ answer: CachedAnswer) throws(StoreError) {
        do {
            try database.write { db in
                try db.execute(sql: "INSERT OR REPLACE INTO model_cache (key, answer, stored_at) VALUES (?, ?, ?)",
                               arguments: [answer.key, Data(answer.answer), answer.storedAt])
            }
        } catch {
            throw StoreError(.unavailable, "keeping a model answer failed: \(error)", cause: error)
        }
    }

    public func deleteAnswers(keys: [String]) throws(StoreError) {
        guard !keys.isEmpty else { return }
        do {
            try database.write { db in
                let delete = try db.cachedStatement(sql: "DELETE FROM model_cache WHERE key = ?")
                for key in keys { try delete.execute(arguments: [key]) }
            }
        } catch {
            throw StoreError(.unavailable, "forgetting model answers failed: \(error)", cause: error)
        }
    }

    public func recordUsage(_ usage: [ModelUsage]) throws(StoreError) {
        guard !usage.isEmpty else { return }
        do {
            try database.write { db in
                let insert = try db.cachedStatement(sql: """
                    INSERT INTO model_usage (at, day, month, run_id, workflow, alias, deployment, input_tokens, output_tokens,
                        cost, cache_hit, latency_ms)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                for usage in usage {
                    let day = Self.day(usage.at)
                    try insert.execute(arguments: [usage.at, day, String(day.prefix(7)), usage.runID, usage.workflow, usage.alias,
                                                   usage.deployment, usage.inputTokens, usage.outputTokens, usage.cost,
                                                   usage.cacheHit, usage.latencyMilliseconds])
                }
            }
        } catch {
            throw StoreError(.unavailable, "recording model usage failed: \(error)", cause: error)
        }
    }

    public func usageTotals(by grouping: ModelUsage.Grouping, since: Double) throws(StoreError) -> [ModelUsageTotal] {
        let column = switch grouping {
        case .alias: "alias"
        case .deployment: "deployment"
        case .workflow: "workflow"
        case .run: "run_id"
        case .day: "day"
        case .month: "month"
        }
        do {
            return try database.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT \(column) AS key, COUNT(*) AS requests, SUM(input_tokens) AS input, SUM(output_tokens) AS output,
                        SUM(cost) AS cost, SUM(cache_hit) AS hits
                    FROM model_usage WHERE at >= ? AND \(column) IS NOT NULL GROUP BY \(column) ORDER BY \(column)
                    """, arguments: [since]).map(Self.total)
            }
        } catch {
            throw StoreError(.unavailable, "reading model usage failed: \(error)", cause: error)
        }
    }

    public func usageTotal(_ scope: ModelUsage.Scope, since: Double) throws(StoreError) -> ModelUsageTotal {
        let (condition, value): (String, String?) = switch scope {
        case .all: ("1 = 1", nil)
        case .alias(let alias): ("alias = ?", alias)
        case .deployment(let deployment): ("deployment = ?", deployment)
        case .workflow(let workflow): ("workflow = ?", workflow)
        case .run(let run): ("run_id = ?", run)
        }
        do {
            return try database.read { db in
                let arguments: StatementArguments = value.map { [since, $0] } ?? [since]
                let row = try Row.fetchOne(db, sql: """
                    SELECT '' AS key, COUNT(*) AS requests, SUM(input_tokens) AS input, SUM(output_tokens) AS output,
                        SUM(cost) AS cost, SUM(cache_hit) AS hits
                    FROM model_usage WHERE at >= ? AND \(condition)
                    """, arguments: arguments)
                return row.map(Self.total) ?? ModelUsageTotal(key: "", requests: 0, inputTokens: 0, outputTokens: 0, cost: 0, cacheHits: 0)
            }
        } catch {
            throw StoreError(.unavailable, "reading model usage failed: \(error)", cause: error)
        }
    }

    public func cooldowns() throws(StoreError) -> [String: ModelCooldown] {
        do {
            return try database.read { db in
                var cooldowns: [String: ModelCooldown] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT key, value FROM key_values WHERE namespace = 'model-cooldown'") {
                    let value = try JSONValue(json: Array(row["value"] as Data))
                    if let until = value["until"]?.doubleValue {
                        cooldowns[row["key"]] = ModelCooldown(until: until, reason: value["reason"]?.stringValue ?? "")
                    }
                }
                return cooldowns
            }
        } catch {
            throw StoreError(.unavailable, "reading model cooldowns failed: \(error)", cause: error)
        }
    }

    public func setCooldown(_ cooldown: ModelCooldown, deployment: String) throws(StoreError) {
        let value: JSONValue = ["until": .number(cooldown.until), "reason": .string(cooldown.reason)]
        try setValue(value.jsonBytes(), namespace: "model-cooldown", key: deployment)
    }

    private static func total(_ row: Row) -> ModelUsageTotal {
        ModelUsageTotal(key: row["key"] ?? "", requests: row["requests"] ?? 0, inputTokens: row["input"] ?? 0,
                        outputTokens: row["output"] ?? 0, cost: row["cost"] ?? 0, cacheHits: row["hits"] ?? 0)
    }

    /// The UTC day of a Unix time, YYYY-MM-DD.
    static func day(_ time: Double) -> String {
        var seconds = time_t(time)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday))
    }
}
