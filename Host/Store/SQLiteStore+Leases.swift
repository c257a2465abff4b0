import GRDB
import TrellisCore

/// Run leases on SQLite: each operation is one `BEGIN IMMEDIATE`
/// transaction, so two processes asking at once are served one after the
/// other, and the second sees what the first took.
extension SQLiteStore {
    public func acquireLease(run: String, owner: LeaseOwner, now: Double) throws(StoreError) -> LeaseClaim {
        try write("taking the lease of run \(run)") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [run]) else { return .missing }
            let status = RunStatus(rawValue: row["status"]) ?? .queued
            if status.isFinished { return .finished(status) }
            if let holder = StoreSchema.leaseHolder(row), holder.owner != owner.id, holder.isLive(at: now, seenFrom: owner.host) {
                return .held(holder)
            }
            try take(run, for: owner, now: now, in: db)
            return .acquired
        }
    }

    public func claimUnfinishedRuns(owner: LeaseOwner, limit: Int, now: Double) throws(StoreError) -> [String] {
        try write("claiming unfinished runs") { db in
            // Free, expired, or held by a process of this machine (checked below).
            let rows = try Row.fetchAll(db, sql: """
                SELECT * FROM runs WHERE status IN ('queued', 'running', 'interrupted')
                  AND (lease_owner IS NULL OR (lease_owner != ? AND (lease_expires <= ? OR lease_host = ?)))
                ORDER BY created_at
                """, arguments: [owner.id, now, owner.host])
            var claimed: [String] = []
            for row in rows where claimed.count < limit {
                if let holder = StoreSchema.leaseHolder(row), holder.isLive(at: now, seenFrom: owner.host) { continue }
                let id: String = row["id"]
                try take(id, for: owner, now: now, in: db)
                claimed.append(id)
            }
            return claimed
        }
    }

    public func renewLeases(owner: LeaseOwner, now: Double) throws(StoreError) -> LeaseRenewal {
        try write("renewing run leases") { db in
            let rows = try Row.fetchAll(db, sql: "UPDATE runs SET lease_expires = ? WHERE lease_owner = ? RETURNING id, cancel_request",
                                        arguments: [now + owner.leaseSeconds, owner.id])
            var renewal = LeaseRenewal(held: [], cancelRequests: [:])
            for row in rows {
                let id: String = row["id"]
                renewal.held.insert(id)
                if let reason: String = row["cancel_request"] { renewal.cancelRequests[id] = reason }
            }
            return renewal
        }
    }

    public func releaseLease(run: String, owner: LeaseOwner) throws(StoreError) {
        try write("releasing the lease of run \(run)") { db in
            try db.execute(sql: "UPDATE runs SET lease_owner = NULL, lease_expires = NULL WHERE id = ? AND lease_owner = ?",
                           arguments: [run, owner.id])
        }
    }

    public func releaseLeases(owner: LeaseOwner) throws(StoreError) {
        try write("releasing run leases") { db in
            try db.execute(sql: "UPDATE runs SET lease_owner = NULL, lease_expires = NULL WHERE lease_owner = ?", arguments: [owner.id])
        }
    }

    public func leaseHolder(run: String) throws(StoreError) -> LeaseHolder? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [run]).flatMap(StoreSchema.leaseHolder) }
    }

    public func requestCancel(run: String, reason: String) throws(StoreError) -> Bool {
        try write("requesting the cancellation of run \(run)") { db in
            try db.execute(sql: "UPDATE runs SET cancel_request = ? WHERE id = ? AND status IN ('queued', 'running', 'interrupted')",
                           arguments: [reason, run])
            return db.changesCount > 0
        }
    }

    private func take(_ run: String, for owner: LeaseOwner, now: Double, in db: Database) throws {
        try db.execute(sql: """
            UPDATE runs SET lease_owner = ?, lease_host = ?, lease_pid = ?, lease_process_start = ?, lease_since = ?, lease_expires = ?
            WHERE id = ?
            """, arguments: [owner.id, owner.host, Int64(owner.pid), Int64(bitPattern: owner.processStart), now,
                             now + owner.leaseSeconds, run])
    }

    /// One immediate transaction (it takes the write lock at its start).
    func write<T>(_ what: String, _ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try database.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.unavailable, "\(what) failed in the store at \(path): \(error)", cause: error)
        }
    }
}
