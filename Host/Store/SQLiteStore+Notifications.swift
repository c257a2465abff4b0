import Foundation
import GRDB
import TrellisCore

extension SQLiteStore: NotificationStore {
    public func save(_ changes: NotificationChanges) throws(StoreError) -> Set<String> {
        guard !changes.isEmpty else { return [] }
        do {
            return try database.write { db in
                if !changes.newNotifications.isEmpty {
                    let insert = try db.cachedStatement(sql: """
                        INSERT INTO notifications (id, recipient, template, category, priority, variables, digest_key,
                            digest_of, state, reason, source, created_at, updated_at, release_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING
                        """)
                    for record in changes.newNotifications {
                        try insert.execute(arguments: [
                            record.id, record.recipient, record.template, record.category, record.priority.rawValue,
                            String(decoding: record.variables.jsonBytes(), as: UTF8.self), record.digestKey, record.digestOf,
                            record.state.rawValue, record.reason, record.source, record.createdAt, record.updatedAt,
                            record.releaseAt,
                        ])
                    }
                }
                if !changes.newDeliveries.isEmpty {
                    let insert = try db.cachedStatement(sql: """
                        INSERT INTO deliveries (id, notification_id, channel, route, state, priority, message, attempts,
                            provider_id, error_class, error, not_before, created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING
                        """)
                    for record in changes.newDeliveries {
                        try insert.execute(arguments: [
                            record.id, record.notificationID, record.channel, record.route, record.state.rawValue,
                            record.priority.rawValue, String(decoding: record.message.jsonBytes(), as: UTF8.self),
                            record.attempts, record.providerID, record.errorClass, record.error, record.notBefore,
                            record.createdAt, record.updatedAt,
                        ])
                    }
                }
                if !changes.notifications.isEmpty {
                    let update = try db.cachedStatement(sql: """
                        UPDATE notifications SET state = ?, reason = ?, priority = ?, digest_of = ?, release_at = ?, updated_at = ?
                        WHERE id = ?
                        """)
                    for record in changes.notifications {
                        try update.execute(arguments: [
                            record.state.rawValue, record.reason, record.priority.rawValue, record.digestOf, record.releaseAt,
                            record.updatedAt, record.id,
                        ])
                    }
                }
                if !changes.deliveries.isEmpty {
                    let update = try db.cachedStatement(sql: """
                        UPDATE deliveries SET state = ?, attempts = ?, provider_id = ?, error_class = ?, error = ?,
                            not_before = ?, updated_at = ?
                        WHERE id = ?
                        """)
                    for record in changes.deliveries {
                        try update.execute(arguments: [
                            record.state.rawValue, record.attempts, record.providerID, record.errorClass, record.error,
                            record.notBefore, record.updatedAt, record.id,
                        ])
                    }
                }
                var claimed = Set<String>()
                if !changes.claiming.isEmpty {
                    let claim = try db.cachedStatement(sql: """
                        UPDATE deliveries SET state = ?, attempts = ?, updated_at = ? WHERE id = ? AND state = 'queued'
                        """)
                    for record in changes.claiming {
                        try claim.execute(arguments: [record.state.rawValue, record.attempts, record.updatedAt, record.id])
                        if db.changesCount > 0 { claimed.insert(record.id) }
                    }
                }
                return claimed
            }
        } catch {
            throw StoreError(.unavailable, "writing notifications to the store at \(path) failed: \(error)", cause: error)
        }
    }

    public func unfinishedDeliveries(since: Double?, include: (String) -> Bool) throws(StoreError) -> [DeliveryRecord] {
        try read { db in
            // The id decides before the row is decoded: a poll of an owner
            // that already knows most of them decodes no message it does not need.
            let rows = try Row.fetchCursor(db, sql: """
                SELECT * FROM deliveries WHERE state IN ('queued', 'sending') AND updated_at >= ? ORDER BY created_at, rowid
                """, arguments: [since ?? -Double.greatestFiniteMagnitude])
            var deliveries: [DeliveryRecord] = []
            while let row = try rows.next() {
                if include(row["id"]) { deliveries.append(try Self.delivery(row)) }
            }
            return deliveries
        }
    }

    public func openDigests() throws(StoreError) -> [NotificationRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM notifications WHERE state = 'digesting' ORDER BY created_at").map(Self.notification)
        }
    }

    public func digestMembers(of id: String) throws(StoreError) -> [NotificationRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM notifications WHERE digest_of = ? ORDER BY created_at, rowid", arguments: [id])
                .map(Self.notification)
        }
    }

    public func notifications(limit: Int, state: String?) throws(StoreError) -> [NotificationRecord] {
        try read { db in
            if let state {
                return try Row.fetchAll(db, sql: "SELECT * FROM notifications WHERE state = ? ORDER BY created_at DESC, rowid DESC LIMIT ?",
                                        arguments: [state, limit]).map(Self.notification)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM notifications ORDER BY created_at DESC, rowid DESC LIMIT ?",
                                    arguments: [limit]).map(Self.notification)
        }
    }

    public func notification(_ id: String) throws(StoreError) -> NotificationRecord? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM notifications WHERE id = ?", arguments: [id]).map(Self.notification)
        }
    }

    /// Deliveries changed after `time` (or at it), oldest change first: what
    /// a search index of deliveries catches up on.
    public func deliveries(changedSince time: Double, limit: Int) throws(StoreError) -> [DeliveryRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM deliveries WHERE updated_at >= ? ORDER BY updated_at, rowid LIMIT ?",
                             arguments: [time, limit]).map(Self.delivery)
        }
    }

    public func deliveries(notification id: String) throws(StoreError) -> [DeliveryRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM deliveries WHERE notification_id = ? ORDER BY created_at, rowid", arguments: [id])
                .map(Self.delivery)
        }
    }

    static func json(_ row: Row, _ column: String) throws -> JSONValue {
        let text: String = row[column]
        return try JSONValue(json: Data(text.utf8))
    }

    static func notification(_ row: Row) throws -> NotificationRecord {
        NotificationRecord(
            id: row["id"], recipient: row["recipient"], template: row["template"], category: row["category"],
            priority: NotificationPriority(rawValue: row["priority"]) ?? .normal, variables: try json(row, "variables"),
            digestKey: row["digest_key"], digestOf: row["digest_of"],
            state: NotificationRecord.State(rawValue: row["state"]) ?? .failed, reason: row["reason"], source: row["source"],
            createdAt: row["created_at"], updatedAt: row["updated_at"], releaseAt: row["release_at"])
    }

    static func delivery(_ row: Row) throws -> DeliveryRecord {
        DeliveryRecord(
            id: row["id"], notificationID: row["notification_id"], channel: row["channel"], route: row["route"],
            state: DeliveryRecord.State(rawValue: row["state"]) ?? .failed,
            priority: NotificationPriority(rawValue: row["priority"]) ?? .normal, message: try json(row, "message"),
            attempts: row["attempts"], providerID: row["provider_id"], errorClass: row["error_class"], error: row["error"],
            notBefore: row["not_before"], createdAt: row["created_at"], updatedAt: row["updated_at"])
    }
}
