import Foundation
import GRDB
import GRDBSQLite
import TrellisCore

/// Measures event appends through the store against raw SQLite inserts of
/// the same rows, in the same process, with the same pragmas (WAL,
/// synchronous = NORMAL), one commit per append and batched.
public struct StoreBenchmark: Sendable {
    public struct Figure: Sendable, Codable {
        public var name: String
        public var perSecond: Double
    }

    public var appends: Int
    public var batchSize: Int

    public init(appends: Int = 20_000, batchSize: Int = 100) {
        self.appends = appends
        self.batchSize = batchSize
    }

    /// A typical event: a step succeeding with a small output.
    private func event(_ index: Int) -> RunEvent {
        .stepSucceeded(step: "s\(index)", attempt: 1, output: ["id": .string("run/s\(index)"), "status": "delivered"],
                       fromCache: false, quality: nil)
    }

    public func run(directory: String) throws -> [Figure] {
        let storeSingle = try measureStore(directory: directory, name: "single", batch: 1)
        let storeBatched = try measureStore(directory: directory, name: "batched", batch: batchSize)
        let rawSingle = try measureRaw(path: "\(directory)/raw-single.db", batch: 1)
        let rawBatched = try measureRaw(path: "\(directory)/raw-batched.db", batch: batchSize)
        return [
            Figure(name: "store, one commit per append", perSecond: storeSingle),
            Figure(name: "raw SQLite, one commit per insert", perSecond: rawSingle),
            Figure(name: "store, \(batchSize) appends per commit", perSecond: storeBatched),
            Figure(name: "raw SQLite, \(batchSize) inserts per commit", perSecond: rawBatched),
        ]
    }

    private func measureStore(directory: String, name: String, batch: Int) throws -> Double {
        let store = try SQLiteRunStore(path: "\(directory)/store-\(name).db")
        var state = RunState(id: "bench")
        let queued = RunEvent.runQueued(RunQueued(workflow: "bench", file: "-", source: "", inputs: [:], trigger: "bench"))
        state.apply(queued, at: 1)
        try store.append([RunAppend(runID: "bench", expectedVersion: 0, events: [queued], time: 1, state: state)])
        let start = DispatchTime.now().uptimeNanoseconds
        var index = 0
        while index < appends {
            let count = min(batch, appends - index)
            let expected = state.version
            var events: [RunEvent] = []
            for offset in 0..<count {
                let event = event(index + offset)
                state.apply(event, at: 2)
                events.append(event)
            }
            // As the runner commits: a run's events of one turn in one append.
            try store.append([RunAppend(runID: "bench", expectedVersion: expected, events: events, time: 2, state: state)])
            index += count
        }
        return Double(appends) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// The same rows through the C API: prepared statement, bind, step, reset.
    private func measureRaw(path: String, batch: Int) throws -> Double {
        var db: OpaquePointer?
        guard sqlite3_open(path, &db) == SQLITE_OK, let db else { throw StoreError(.unavailable, "cannot open \(path)") }
        defer { sqlite3_close(db) }
        func exec(_ sql: String) throws {
            guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else {
                throw StoreError(.unavailable, String(cString: sqlite3_errmsg(db)))
            }
        }
        try exec("PRAGMA journal_mode = WAL")
        try exec("PRAGMA synchronous = NORMAL")
        // The store's own events table, so both sides write the same rows.
        try exec("CREATE TABLE events (run_id TEXT NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, at REAL NOT NULL, PRIMARY KEY (run_id, version)) WITHOUT ROWID")
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, "INSERT INTO events (run_id, version, type, data, at) VALUES (?, ?, ?, ?, ?)", -1,
                                 &statement, nil) == SQLITE_OK else { throw StoreError(.unavailable, "prepare failed") }
        defer { sqlite3_finalize(statement) }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        let start = DispatchTime.now().uptimeNanoseconds
        var index = 0
        while index < appends {
            let count = min(batch, appends - index)
            try exec("BEGIN")
            for offset in 0..<count {
                let event = event(index + offset)
                let data = String(decoding: event.dataJSON, as: UTF8.self)
                sqlite3_bind_text(statement, 1, "bench", -1, transient)
                sqlite3_bind_int64(statement, 2, Int64(index + offset + 1))
                sqlite3_bind_text(statement, 3, event.type, -1, transient)
                sqlite3_bind_text(statement, 4, data, -1, transient)
                sqlite3_bind_double(statement, 5, 2)
                guard sqlite3_step(statement) == SQLITE_DONE else { throw StoreError(.unavailable, String(cString: sqlite3_errmsg(db))) }
                sqlite3_reset(statement)
            }
            try exec("COMMIT")
            index += count
        }
        return Double(appends) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}
