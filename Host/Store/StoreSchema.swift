import Foundation
import GRDB
import TrellisCore

/// The store's tables, their migrations, and how rows map to values.
package enum StoreSchema {
    /// The schema's versions. Add a migration for every change; never edit
    /// one that has shipped.
    package static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            // Events are clustered by run. A run's row is both its projection
            // and its stream head: `version` is the optimistic-concurrency check.
            try db.execute(sql: """
                CREATE TABLE events (
                    run_id TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    type TEXT NOT NULL,
                    data TEXT NOT NULL,
                    at REAL NOT NULL,
                    PRIMARY KEY (run_id, version)
                ) WITHOUT ROWID;
                CREATE TABLE runs (
                    id TEXT PRIMARY KEY,
                    workflow TEXT NOT NULL,
                    status TEXT NOT NULL,
                    trigger TEXT NOT NULL,
                    message TEXT,
                    version INTEGER NOT NULL,
                    snapshot_version INTEGER NOT NULL DEFAULT 0,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX runs_by_status ON runs (status, created_at);
                CREATE INDEX runs_by_workflow ON runs (workflow, status);
                CREATE TABLE steps (
                    run_id TEXT NOT NULL,
                    step_id TEXT NOT NULL,
                    state TEXT NOT NULL,
                    status TEXT NOT NULL,
                    started_at REAL,
                    PRIMARY KEY (run_id, step_id)
                ) WITHOUT ROWID;
                CREATE TABLE snapshots (
                    run_id TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    state TEXT NOT NULL,
                    PRIMARY KEY (run_id, version)
                );
                CREATE TABLE step_cache (key TEXT PRIMARY KEY, output TEXT NOT NULL, stored_at REAL NOT NULL);
                CREATE TABLE trigger_state (key TEXT PRIMARY KEY, last_fire REAL NOT NULL);
                CREATE TABLE key_values (
                    namespace TEXT NOT NULL,
                    key TEXT NOT NULL,
                    value BLOB NOT NULL,
                    PRIMARY KEY (namespace, key)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v2-notifications") { db in
            // The notification service's messages (one per recipient) and
            // their deliveries (one per channel tried).
            try db.execute(sql: """
                CREATE TABLE notifications (
                    id TEXT PRIMARY KEY,
                    recipient TEXT NOT NULL,
                    template TEXT NOT NULL,
                    category TEXT,
                    priority TEXT NOT NULL,
                    variables TEXT NOT NULL,
                    digest_key TEXT,
                    digest_of TEXT,
                    state TEXT NOT NULL,
                    reason TEXT,
                    source TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL,
                    release_at REAL
                );
                CREATE INDEX notifications_by_state ON notifications (state, created_at);
                CREATE INDEX notifications_by_digest ON notifications (digest_of) WHERE digest_of IS NOT NULL;
                CREATE TABLE deliveries (
                    id TEXT PRIMARY KEY,
                    notification_id TEXT NOT NULL,
                    channel TEXT NOT NULL,
                    route INTEGER NOT NULL,
                    state TEXT NOT NULL,
                    priority TEXT NOT NULL,
                    message TEXT NOT NULL,
                    attempts INTEGER NOT NULL,
                    provider_id TEXT,
                    error_class TEXT,
                    error TEXT,
                    not_before REAL NOT NULL,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL
                );
                CREATE INDEX deliveries_by_notification ON deliveries (notification_id, created_at);
                CREATE INDEX deliveries_unfinished ON deliveries (state) WHERE state IN ('queued', 'sending');
                """)
        }
        migrator.registerMigration("v3-leases") { db in
            // One owner per run: the process executing a run holds its
            // lease (see RunLease.swift); appends check `lease_owner` in the
            // same statement that checks the version. `cancel_request` is
            // how another process asks the holder to cancel.
            try db.execute(sql: """
                ALTER TABLE runs ADD COLUMN lease_owner TEXT;
                ALTER TABLE runs ADD COLUMN lease_host TEXT;
                ALTER TABLE runs ADD COLUMN lease_pid INTEGER;
                ALTER TABLE runs ADD COLUMN lease_process_start INTEGER;
                ALTER TABLE runs ADD COLUMN lease_since REAL;
                ALTER TABLE runs ADD COLUMN lease_expires REAL;
                ALTER TABLE runs ADD COLUMN cancel_request TEXT;
                CREATE INDEX runs_by_lease ON runs (lease_owner) WHERE lease_owner IS NOT NULL;
                """)
        }
        migrator.registerMigration("v4-models") { db in
            // The model router's response cache (answers by the hash of the
            // normalized request, bounded and aged by the router) and the
            // usage of every routed request, which budgets are checked
            // against and `trellis ai usage` sums.
            try db.execute(sql: """
                CREATE TABLE model_cache (
                    key TEXT PRIMARY KEY,
                    answer BLOB NOT NULL,
                    stored_at REAL NOT NULL
                );
                CREATE TABLE model_usage (
                    id INTEGER PRIMARY KEY,
                    at REAL NOT NULL,
                    day TEXT NOT NULL,
                    month TEXT NOT NULL,
                    run_id TEXT,
                    workflow TEXT,
                    alias TEXT NOT NULL,
                    deployment TEXT NOT NULL,
                    input_tokens INTEGER NOT NULL,
                    output_tokens INTEGER NOT NULL,
                    cost REAL NOT NULL,
                    cache_hit INTEGER NOT NULL,
                    latency_ms REAL NOT NULL
                );
                CREATE INDEX model_usage_by_time ON model_usage (at);
                """)
        }
        migrator.registerMigration("v5-changes") { db in
            // What changed since a time: the search engine's run history
            // and deliveries indexes catch up on these.
            try db.execute(sql: """
                CREATE INDEX runs_by_change ON runs (updated_at);
                CREATE INDEX deliveries_by_change ON deliveries (updated_at);
                """)
        }
        return migrator
    }

    static func fetchEvents(_ db: Database, run: String, after version: Int64) throws -> [StoredEvent] {
        try Row.fetchAll(db, sql: "SELECT version, type, data, at FROM events WHERE run_id = ? AND version > ? ORDER BY version",
                         arguments: [run, version]).map { row in
            let type: String = row["type"]
            let data: String = row["data"]
            do {
                return StoredEvent(runID: run, version: row["version"],
                                   event: try RunEvent(type: type, data: JSONValue(json: Data(data.utf8))), time: row["at"])
            } catch {
                throw StoreError(.corrupt, "run \(run): event \(row["version"] as Int64) cannot be read: \(error)", cause: error)
            }
        }
    }

    static func runRecord(_ row: Row) -> RunRecord {
        RunRecord(id: row["id"], workflow: row["workflow"],
                  status: RunStatus(rawValue: row["status"]) ?? .queued, trigger: row["trigger"], message: row["message"],
                  version: row["version"], createdAt: row["created_at"], updatedAt: row["updated_at"])
    }

    /// The lease recorded on a run's row, if any.
    static func leaseHolder(_ row: Row) -> LeaseHolder? {
        guard let owner: String = row["lease_owner"] else { return nil }
        let start: Int64 = row["lease_process_start"] ?? 0
        return LeaseHolder(owner: owner, host: row["lease_host"] ?? "", pid: Int32(truncatingIfNeeded: row["lease_pid"] ?? 0 as Int64),
                           processStart: UInt64(bitPattern: start), since: row["lease_since"] ?? 0,
                           expires: row["lease_expires"] ?? 0)
    }

    static func stepState(_ row: Row) throws -> StepState {
        let text: String = row["state"]
        return StepState(id: row["step_id"], snapshot: try JSONValue(json: Data(text.utf8)))
    }
}
