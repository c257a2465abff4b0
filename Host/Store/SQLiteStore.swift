import Foundation
import GRDB
import Metrics
import TrellisCore

/// The embedded store: one SQLite file in WAL mode, holding every store of
/// the host (runs and their leases, the step cache, the trigger clock,
/// plugins' values, notifications).
///
/// `synchronous = NORMAL`: a committed transaction survives the process
/// being killed at any instant (it is in the WAL, which the OS holds); a
/// power loss may lose the last transactions, never corrupt the file.
public final class SQLiteStore: RunStore, StepCache, TriggerClock, KeyValueStore, @unchecked Sendable {
    public struct Configuration: Sendable {
        /// A snapshot of a run's state is written after at least this many
        /// events since the last one …
        public var snapshotInterval: Int64 = 256
        /// … and at least this many per step of the run. A snapshot costs
        /// time in proportion to the run's steps, so this spreads its cost
        /// over that many events per step; loading a run folds at most that
        /// many events per step after its latest snapshot.
        public var snapshotEventsPerStep: Int64 = 4
        public var busyTimeoutSeconds: Double = 10
        public init() {}
    }

    public let path: String
    let database: DatabasePool
    let configuration: Configuration
    let checkpointer: WALCheckpointer
    /// `trellis_store_appends_total`, `…_append_events_total`, `…_append_seconds`.
    let appendCount = Counter(label: "trellis_store_appends_total")
    let appendEvents = Counter(label: "trellis_store_append_events_total")
    let appendTime = Metrics.Timer(label: "trellis_store_append_seconds")

    /// Opens (creating and migrating when needed) the store at `path`.
    public init(path: String, configuration: Configuration = Configuration()) throws(StoreError) {
        guard !path.isEmpty else { throw StoreError(.unavailable, "the store path is empty") }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw StoreError(.unavailable, "the store path \(path) is a directory; give a file in it, e.g. \(path)/trellis.db")
        }
        self.path = path
        self.configuration = configuration
        var options = GRDB.Configuration()
        options.busyMode = .timeout(configuration.busyTimeoutSeconds)
        let checkpointer = WALCheckpointer(path: path)
        self.checkpointer = checkpointer
        options.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            if !db.configuration.readonly, let connection = db.sqliteConnection { checkpointer.attach(to: connection) }
        }
        do {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            // Several processes may open a new store at once (`serve` and
            // `trigger`): one sets it up (WAL, migrations) while the others wait.
            database = try withFileLock(path + ".lock") {
                let pool = try DatabasePool(path: path, configuration: options)
                try StoreSchema.migrator.migrate(pool)
                return pool
            }
        } catch {
            checkpointer.stop()
            throw StoreError(.unavailable, "cannot open the store at \(path): \(error)", cause: error)
        }
    }

    deinit { checkpointer.stop() }

    /// Stops the store's checkpointer thread after its pass under way (the
    /// store still works; the writer then checkpoints as SQLite does by
    /// itself). A host's service group calls it last, at shutdown.
    public func stopCheckpointing() {
        checkpointer.stop()
    }

    func read<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try database.read(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.unavailable, "reading the store at \(path) failed: \(error)", cause: error)
        }
    }

    public func loadState(run: String) throws(StoreError) -> RunState? {
        try read { db in
            var state: RunState?
            var after: Int64 = 0
            if let row = try Row.fetchOne(db, sql: "SELECT version, state FROM snapshots WHERE run_id = ? ORDER BY version DESC LIMIT 1",
                                          arguments: [run]) {
                let text: String = row["state"]
                state = try RunState(snapshot: JSONValue(json: Data(text.utf8)))
                after = row["version"]
            }
            let tail = try StoreSchema.fetchEvents(db, run: run, after: after)
            if state == nil && tail.isEmpty { return nil }
            var result = state ?? RunState(id: run)
            for stored in tail { result.apply(stored.event, at: stored.time) }
            return result
        }
    }

    public func events(run: String) throws(StoreError) -> [StoredEvent] {
        try read { db in try StoreSchema.fetchEvents(db, run: run, after: 0) }
    }

    public func runRecord(_ id: String) throws(StoreError) -> RunRecord? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]).map(StoreSchema.runRecord) }
    }

    public func runRecords(limit: Int, status: RunStatus?) throws(StoreError) -> [RunRecord] {
        try read { db in
            if let status {
                return try Row.fetchAll(db, sql: "SELECT * FROM runs WHERE status = ? ORDER BY created_at DESC, id DESC LIMIT ?",
                                        arguments: [status.rawValue, limit]).map(StoreSchema.runRecord)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM runs ORDER BY created_at DESC, id DESC LIMIT ?", arguments: [limit])
                .map(StoreSchema.runRecord)
        }
    }

    /// Runs changed after `time` (or at it), oldest change first: what a
    /// search index of run history catches up on.
    public func runRecords(changedSince time: Double, limit: Int) throws(StoreError) -> [RunRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM runs WHERE updated_at >= ? ORDER BY updated_at, id LIMIT ?", arguments: [time, limit])
                .map(StoreSchema.runRecord)
        }
    }

    public func stepRecords(run: String) throws(StoreError) -> [StepState] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM steps WHERE run_id = ? ORDER BY started_at IS NULL, started_at, step_id",
                             arguments: [run]).map(StoreSchema.stepState)
        }
    }

    public func unfinishedRuns() throws(StoreError) -> [String] {
        try read { db in
            try String.fetchAll(db, sql: "SELECT id FROM runs WHERE status IN ('queued', 'running', 'interrupted') ORDER BY created_at")
        }
    }

    public func cachedOutput(key: String, maxAge: Double, now: Double) throws(StoreError) -> CachedOutput? {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT output, stored_at FROM step_cache WHERE key = ?", arguments: [key]) else {
                return nil
            }
            let storedAt: Double = row["stored_at"]
            guard now - storedAt <= maxAge else { return nil }
            let text: String = row["output"]
            return CachedOutput(output: try JSONValue(json: Data(text.utf8)), storedAt: storedAt)
        }
    }

    public func storeCachedOutput(key: String, output: JSONValue, at time: Double) throws(StoreError) {
        do {
            try database.write { db in
                try db.execute(sql: "INSERT OR REPLACE INTO step_cache (key, output, stored_at) VALUES (?, ?, ?)",
                               arguments: [key, String(decoding: output.jsonBytes(), as: UTF8.self), time])
            }
        } catch {
            throw StoreError(.unavailable, "writing the step cache failed: \(error)", cause: error)
        }
    }

    public func unfinishedRuns(workflow: String) throws(StoreError) -> [String] {
        try read { db in
            try String.fetchAll(db, sql: "SELECT id FROM runs WHERE workflow = ? AND status IN ('queued', 'running', 'interrupted') ORDER BY created_at",
                                arguments: [workflow])
        }
    }

    public func lastFire(trigger key: String) throws(StoreError) -> Double? {
        try read { db in try Double.fetchOne(db, sql: "SELECT last_fire FROM trigger_state WHERE key = ?", arguments: [key]) }
    }

    public func setLastFire(trigger key: String, at time: Double) throws(StoreError) {
        do {
            try database.write { db in
                try db.execute(sql: "INSERT OR REPLACE INTO trigger_state (key, last_fire) VALUES (?, ?)", arguments: [key, time])
            }
        } catch {
            throw StoreError(.unavailable, "writing trigger state failed: \(error)", cause: error)
        }
    }
}

extension SQLiteStore {
    public func value(namespace: String, key: String) throws(StoreError) -> [UInt8]? {
        do {
            return try database.read { db in
                try Data.fetchOne(db, sql: "SELECT value FROM key_values WHERE namespace = ? AND key = ?",
                                  arguments: [namespace, key]).map { Array($0) }
            }
        } catch {
            throw StoreError(.unavailable, "reading a kept value failed: \(error)", cause: error)
        }
    }

    public func setValue(_ value: [UInt8], namespace: String, key: String) throws(StoreError) {
        do {
            try database.write { db in
                try db.execute(sql: "INSERT OR REPLACE INTO key_values (namespace, key, value) VALUES (?, ?, ?)",
                               arguments: [namespace, key, Data(value)])
            }
        } catch {
            throw StoreError(.unavailable, "keeping a value failed: \(error)", cause: error)
        }
    }
}

/// Runs `body` holding an exclusive `flock` on `path` (created if needed).
func withFileLock<T>(_ path: String, _ body: () throws -> T) throws -> T {
    let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw StoreError(.unavailable, "cannot open the lock file \(path): \(String(cString: strerror(errno)))") }
    defer { close(descriptor) }
    while flock(descriptor, LOCK_EX) != 0 {
        guard errno == EINTR else { throw StoreError(.unavailable, "cannot lock \(path): \(String(cString: strerror(errno)))") }
    }
    defer { flock(descriptor, LOCK_UN) }
    return try body()
}
