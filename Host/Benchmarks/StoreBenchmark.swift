import Foundation
import GRDB
import GRDBSQLite
import TrellisCore
import TrellisStore

/// Measures event appends through the store against raw SQLite, in the same
/// process, with the same pragmas (WAL, synchronous = NORMAL), one commit
/// per append and batched. Raw SQLite runs twice: inserting only the event
/// rows, and writing every row the store writes for an append (the event,
/// the run's row, the step's row) through the C API — the second shows what
/// the store itself adds, the first what keeping projections costs too.
public struct StoreBenchmark: Sendable {
    public struct Figure: Sendable, Codable {
        public var name: String
        public var perSecond: Double
    }

    public var appends: Int
    public var batchSize: Int
    /// Rounds of all six measurements, one after another; each figure is the
    /// best of its rounds, so a moment of noise on the machine (which falls on
    /// one side or the other) does not decide the ratio.
    public var rounds: Int

    public init(appends: Int = 20_000, batchSize: Int = 100, rounds: Int = 3) {
        self.appends = appends
        self.batchSize = batchSize
        self.rounds = max(1, rounds)
    }

    /// A typical event: a step succeeding with a small output.
    private func event(_ index: Int) -> RunEvent {
        .stepSucceeded(step: "s\(index)", attempt: 1, output: ["id": .string("run/s\(index)"), "status": "delivered"],
                       fromCache: false, quality: nil)
    }

    public func run(directory: String) throws -> [Figure] {
        let names = [
            "store, one commit per append",
            "raw SQLite, one commit per insert",
            "store, \(batchSize) events per append and commit",
            "raw SQLite, \(batchSize) inserts per commit",
            "raw SQLite, the store's rows, one commit per append",
            "raw SQLite, the store's rows, \(batchSize) events per commit",
        ]
        var best = [Double](repeating: 0, count: names.count)
        for round in 1...rounds {
            // Every measurement on a new file.
            let measured = [
                try measureStore(path: "\(directory)/store-single-\(round).db", batch: 1),
                try measureRaw(path: "\(directory)/raw-single-\(round).db", batch: 1, sameRows: false),
                try measureStore(path: "\(directory)/store-batched-\(round).db", batch: batchSize),
                try measureRaw(path: "\(directory)/raw-batched-\(round).db", batch: batchSize, sameRows: false),
                try measureRaw(path: "\(directory)/rows-single-\(round).db", batch: 1, sameRows: true),
                try measureRaw(path: "\(directory)/rows-batched-\(round).db", batch: batchSize, sameRows: true),
            ]
            for (index, value) in measured.enumerated() { best[index] = max(best[index], value) }
        }
        return zip(names, best).map { Figure(name: $0, perSecond: $1) }
    }

    private func measureStore(path: String, batch: Int) throws -> Double {
        let store = try SQLiteStore(path: path)
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

    /// Rows through the C API: prepared statements, bind, step, reset. With
    /// `sameRows`, on the store's own schema, each append also updates the
    /// run's row and writes the step's row, as the store does.
    private func measureRaw(path: String, batch: Int, sameRows: Bool) throws -> Double {
        if sameRows {
            // The store's tables and indexes, made by its own migrations.
            let queue = try DatabaseQueue(path: path)
            try StoreSchema.migrator.migrate(queue)
            try queue.close()
        }
        var db: OpaquePointer?
        guard sqlite3_open(path, &db) == SQLITE_OK, let db else { throw StoreError(.unavailable, "cannot open \(path)") }
        defer { sqlite3_close(db) }
        func exec(_ sql: String) throws {
            guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else {
                throw StoreError(.unavailable, String(cString: sqlite3_errmsg(db)))
            }
        }
        func prepare(_ sql: String) throws -> OpaquePointer {
            var statement: OpaquePointer?
            guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
                throw StoreError(.unavailable, "prepare failed: \(String(cString: sqlite3_errmsg(db)))")
            }
            return statement
        }
        func step(_ statement: OpaquePointer) throws {
            guard sqlite3_step(statement) == SQLITE_DONE else { throw StoreError(.unavailable, String(cString: sqlite3_errmsg(db))) }
            sqlite3_reset(statement)
        }
        try exec("PRAGMA journal_mode = WAL")
        try exec("PRAGMA synchronous = NORMAL")
        if sameRows {
            try exec("INSERT INTO runs (id, workflow, status, trigger, version, created_at, updated_at) VALUES ('bench', 'bench', 'running', 'bench', 0, 1, 1)")
        } else {
            // The store's own events table, so both sides write the same rows.
            try exec("CREATE TABLE events (run_id TEXT NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, at REAL NOT NULL, PRIMARY KEY (run_id, version)) WITHOUT ROWID")
        }
        let insert = try prepare("INSERT INTO events (run_id, version, type, data, at) VALUES (?, ?, ?, ?, ?)")
        let run = try sameRows ? prepare("UPDATE runs SET version = ?, updated_at = ? WHERE id = ? AND version = ?") : nil
        let upsert = try sameRows ? prepare("""
            INSERT INTO steps (run_id, step_id, state, status, started_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (run_id, step_id) DO UPDATE SET state = excluded.state, status = excluded.status, started_at = excluded.started_at
            """) : nil
        defer { [insert, run, upsert].forEach { sqlite3_finalize($0) } }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        var state = RunState(id: "bench")
        let start = DispatchTime.now().uptimeNanoseconds
        var index = 0
        while index < appends {
            let count = min(batch, appends - index)
            try exec("BEGIN")
            for offset in 0..<count {
                let version = Int64(index + offset + 1)
                let event = event(index + offset)
                let data = String(decoding: event.dataJSON, as: UTF8.self)
                sqlite3_bind_text(insert, 1, "bench", -1, transient)
                sqlite3_bind_int64(insert, 2, version)
                sqlite3_bind_text(insert, 3, event.type, -1, transient)
                sqlite3_bind_text(insert, 4, data, -1, transient)
                sqlite3_bind_double(insert, 5, 2)
                try step(insert)
                guard let upsert, let stepID = event.step else { continue }
                state.apply(event, at: 2)
                let row = String(decoding: state.steps[stepID]!.snapshotJSON, as: UTF8.self)
                sqlite3_bind_text(upsert, 1, "bench", -1, transient)
                sqlite3_bind_text(upsert, 2, stepID, -1, transient)
                sqlite3_bind_text(upsert, 3, row, -1, transient)
                sqlite3_bind_text(upsert, 4, "succeeded", -1, transient)
                sqlite3_bind_double(upsert, 5, 2)
                try step(upsert)
            }
            if let run {
                // One append of `count` events: the run's row once, as the store does.
                sqlite3_bind_int64(run, 1, Int64(index + count))
                sqlite3_bind_double(run, 2, 2)
                sqlite3_bind_text(run, 3, "bench", -1, transient)
                sqlite3_bind_int64(run, 4, Int64(index))
                try step(run)
            }
            try exec("COMMIT")
            index += count
        }
        return Double(appends) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}
