import Dispatch
import GRDB
import TrellisCore

/// Appending events: the hot path of every run. One transaction writes each
/// run's events, its row (the projection and the stream head) and the rows
/// of the steps the events touched, and now and then a snapshot.
extension SQLiteStore {
    public func append(_ appends: [RunAppend]) throws(StoreError) {
        guard !appends.isEmpty else { return }
        let started = DispatchTime.now().uptimeNanoseconds
        defer {
            appendTime.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started))
            appendCount.increment()
            appendEvents.increment(by: appends.reduce(0) { $0 + $1.events.count })
        }
        do {
            try database.writeWithoutTransaction { db in
                // BEGIN and COMMIT as cached statements: GRDB's
                // `inTransaction` compiles both again on every call.
                try PreparedStatement(db, "BEGIN IMMEDIATE").run()
                do {
                    for append in appends { try write(append, in: db) }
                    try PreparedStatement(db, "COMMIT").run()
                } catch {
                    if db.isInsideTransaction { try? db.execute(sql: "ROLLBACK") }
                    throw error
                }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.unavailable, "writing to the store at \(path) failed: \(error)", cause: error)
        }
    }

    private func write(_ append: RunAppend, in db: Database) throws {
        let state = append.state
        let expected = append.expectedVersion
        let version = expected + Int64(append.events.count)
        // The run's row is both the projection and the stream head: one
        // statement checks the expected version and writes the new state.
        var snapshotVersion: Int64 = 0
        if expected == 0 {
            let insert = try PreparedStatement(db, """
                INSERT INTO runs (id, workflow, status, trigger, message, version, created_at, updated_at,
                                  lease_owner, lease_host, lease_pid, lease_process_start, lease_since, lease_expires)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            insert.bind(1, state.id)
            insert.bind(2, state.workflow)
            insert.bind(3, state.status.rawValue)
            insert.bind(4, state.trigger)
            insert.bind(5, state.message)
            insert.bind(6, version)
            insert.bind(7, state.createdAt)
            insert.bind(8, state.updatedAt)
            if let owner = append.owner {
                insert.bind(9, owner.id)
                insert.bind(10, owner.host)
                insert.bind(11, Int64(owner.pid))
                insert.bind(12, Int64(bitPattern: owner.processStart))
                insert.bind(13, append.time)
                insert.bind(14, append.time + owner.leaseSeconds)
            }
            do {
                try insert.run()
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                throw conflict(append, in: db)
            }
        } else {
            // Only a run-level event changes the status (or the message); an
            // UPDATE that names `status` rewrites the two indexes on it even
            // when the value stays, so the common case leaves it out.
            // The same statement checks that the appender holds the lease,
            // and a run that finishes or is interrupted gives it up.
            let statusChanges = append.events.contains { $0.changesRunStatus }
            let releases = statusChanges && (state.status.isFinished || state.status == .interrupted)
            let update = try PreparedStatement(db, statusChanges ? """
                UPDATE runs SET version = ?, updated_at = ?, status = ?, message = ?,
                    lease_owner = iif(?, NULL, lease_owner), lease_expires = iif(?, NULL, lease_expires)
                WHERE id = ? AND version = ? AND lease_owner IS ? RETURNING snapshot_version
                """ : """
                UPDATE runs SET version = ?, updated_at = ?
                WHERE id = ? AND version = ? AND lease_owner IS ? RETURNING snapshot_version
                """)
            var index: Int32 = 1
            func next() -> Int32 { defer { index += 1 }; return index }
            update.bind(next(), version)
            update.bind(next(), state.updatedAt)
            if statusChanges {
                update.bind(next(), state.status.rawValue)
                update.bind(next(), state.message)
                update.bind(next(), Int64(releases ? 1 : 0))
                update.bind(next(), Int64(releases ? 1 : 0))
            }
            update.bind(next(), append.runID)
            update.bind(next(), expected)
            update.bind(next(), append.owner?.id)
            guard let stored = try update.firstInteger() else { throw conflict(append, in: db) }
            snapshotVersion = stored
        }
        let insert = try PreparedStatement(db, "INSERT INTO events (run_id, version, type, data, at) VALUES (?, ?, ?, ?, ?)")
        var next = expected
        for event in append.events {
            next += 1
            insert.bind(1, append.runID)
            insert.bind(2, next)
            insert.bind(3, event.type)
            insert.bind(4, json: event.dataJSON)
            insert.bind(5, append.time)
            try insert.run()
        }
        try writeSteps(append, in: db)
        // A snapshot costs time in proportion to the state's size, so take one
        // only after a multiple of that many events: loading stays cheap, and
        // snapshots cost O(1) per event however large the run grows.
        let interval = max(configuration.snapshotInterval, configuration.snapshotEventsPerStep * Int64(state.steps.count))
        if version - snapshotVersion >= interval {
            let snapshot = try PreparedStatement(db, "INSERT OR REPLACE INTO snapshots (run_id, version, state) VALUES (?, ?, ?)")
            snapshot.bind(1, append.runID)
            snapshot.bind(2, state.version)
            snapshot.bind(3, json: state.snapshotJSON)
            try snapshot.run()
            let mark = try PreparedStatement(db, "UPDATE runs SET snapshot_version = ? WHERE id = ?")
            mark.bind(1, version)
            mark.bind(2, append.runID)
            try mark.run()
        }
    }

    /// Writes the rows of the steps the events touched.
    private func writeSteps(_ append: RunAppend, in db: Database) throws {
        let state = append.state
        // In event order, each once (a set: a batch may touch hundreds).
        var touched: [String] = []
        var seen = Set<String>(minimumCapacity: append.events.count)
        var finishesRun = false
        for event in append.events {
            if let step = event.step, seen.insert(step).inserted { touched.append(step) }
            if case .runFinished = event { finishesRun = true }
        }
        if finishesRun {
            // Finishing a run cancels its unfinished steps: only those rows change.
            for step in state.steps.values where step.status == .cancelled && seen.insert(step.id).inserted { touched.append(step.id) }
        }
        let upsert = try PreparedStatement(db, """
            INSERT INTO steps (run_id, step_id, state, status, started_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (run_id, step_id) DO UPDATE SET state = excluded.state, status = excluded.status,
                started_at = excluded.started_at
            """)
        for id in touched {
            guard let step = state.steps[id] else { continue }
            upsert.bind(1, state.id)
            upsert.bind(2, id)
            upsert.bind(3, json: step.snapshotJSON)
            upsert.bind(4, step.status.rawValue)
            upsert.bind(5, step.startedAt)
            try upsert.run()
        }
    }

    private func conflict(_ append: RunAppend, in db: Database) -> StoreError {
        let row = (try? Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [append.runID])) ?? nil
        let owner: String? = row?["lease_owner"]
        if let row, owner != append.owner?.id {
            let holder = StoreSchema.leaseHolder(row).map { "\($0)" } ?? "nobody"
            return StoreError(.leaseLost, "run \(append.runID) is not this process's to write: its lease is held by \(holder)")
        }
        let current: Int64? = row?["version"]
        return StoreError(.conflict, "run \(append.runID) is at version \(current ?? 0), not \(append.expectedVersion) as expected: another writer got there first")
    }
}
