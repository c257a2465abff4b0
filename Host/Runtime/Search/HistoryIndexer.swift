import Foundation
import Logging
import TrellisCore
import TrellisSearch
import TrellisStore

/// Keeps two search indexes of the store's history: `history-runs` (each
/// run with its workflow, status, steps, plugins, error classes and
/// messages) and `history-deliveries` (each notification delivery with its
/// channel, state and error). It catches up on what changed since it last
/// looked — under `trellis serve` every two seconds, and before every
/// `trellis search runs` — so it is current wherever the runs were written.
/// What the store holds is redacted already; so is what this indexes.
public final class HistoryIndexer: Sendable {
    public static let runsIndex = "history-runs"
    public static let deliveriesIndex = "history-deliveries"

    let engine: SearchEngine
    let store: SQLiteStore
    let analyzer: String

    /// `analyzer`: the text analyzer of both indexes (the deployment must enable it).
    public init(engine: SearchEngine, store: SQLiteStore, analyzer: String) {
        self.engine = engine
        self.store = store
        self.analyzer = analyzer
    }

    var runsSchema: SearchSchema {
        SearchSchema(fields: [
            .init(name: "workflow", type: .keyword), .init(name: "status", type: .keyword), .init(name: "trigger", type: .keyword),
            .init(name: "step", type: .keyword), .init(name: "plugin", type: .keyword), .init(name: "error", type: .keyword),
            .init(name: "text", type: .text, analyzer: [analyzer]),
            .init(name: "at", type: .date), .init(name: "seconds", type: .number),
        ])
    }

    var deliveriesSchema: SearchSchema {
        SearchSchema(fields: [
            .init(name: "notification", type: .keyword), .init(name: "channel", type: .keyword), .init(name: "state", type: .keyword),
            .init(name: "error", type: .keyword), .init(name: "text", type: .text, analyzer: [analyzer]), .init(name: "at", type: .date),
        ])
    }

    /// The index, made on first use (the engine keeps it open after).
    func index(_ name: String, _ schema: SearchSchema) throws(SearchError) -> SearchIndex {
        do {
            return try engine.index(name)
        } catch .unknownIndex {
            return try engine.create(name, schema: schema)
        }
    }

    /// Indexes what changed since the last catch-up; returns how many runs
    /// and deliveries it indexed.
    @discardableResult
    public func catchUp() throws -> (runs: Int, deliveries: Int) {
        let runs = try follow(try index(Self.runsIndex, runsSchema)) { since in
            try store.runRecords(changedSince: since, limit: Self.page).map { (id: $0.id, at: $0.updatedAt, record: $0) }
        } document: { try self.document($0) }
        let deliveries = try follow(try index(Self.deliveriesIndex, deliveriesSchema)) { since in
            try store.deliveries(changedSince: since, limit: Self.page).map { (id: $0.id, at: $0.updatedAt, record: $0) }
        } document: { self.document($0) }
        return (runs, deliveries)
    }

    static let page = 500

    /// Where an index has caught up to: the last change's time, and the ids
    /// changed at that instant (read again next time, and passed over).
    struct Watermark {
        var at: Double = -1
        var ids: Set<String> = []
    }

    /// Pages through changes from the index's watermark on, committing each
    /// page and moving the watermark past it.
    private func follow<Record>(_ index: SearchIndex, _ changes: (Double) throws -> [(id: String, at: Double, record: Record)],
                                document: (Record) throws -> JSONValue) throws -> Int {
        let file = "\(engine.root)/\(index.name)/watermark.json"
        var mark = Watermark()
        if let bytes = FileManager.default.contents(atPath: file), let value = try? JSONValue(json: Array(bytes)) {
            mark.at = value["at"]?.doubleValue ?? -1
            mark.ids = Set((value["ids"]?.arrayValue ?? []).compactMap(\.stringValue))
        }
        var indexed = 0
        while true {
            let page = try changes(mark.at)
            let fresh = page.filter { !($0.at == mark.at && mark.ids.contains($0.id)) }
            if !fresh.isEmpty {
                try index.index(try fresh.map { try document($0.record) })
                try index.commit()
                indexed += fresh.count
            }
            guard let last = page.last else { break }
            let atLast = page.filter { $0.at == last.at }.map(\.id)
            mark = Watermark(at: last.at, ids: last.at == mark.at ? mark.ids.union(atLast) : Set(atLast))
            try JSONValue.object(["at": .number(mark.at), "ids": .array(mark.ids.sorted().map(JSONValue.string))]).jsonString()
                .write(toFile: file, atomically: true, encoding: .utf8)
            if page.count < Self.page || fresh.isEmpty { break }
        }
        try index.mergeIfNeeded()
        return indexed
    }

    func document(_ run: RunRecord) throws -> JSONValue {
        let steps = try store.stepRecords(run: run.id)
        var words = [run.workflow, run.status.rawValue, run.trigger]
        if let message = run.message { words.append(message) }
        var errors: [String] = []
        for step in steps {
            words.append(step.id)
            if let plugin = step.plugin { words.append(plugin) }
            if let error = step.lastError {
                errors.append(error.errorClass.rawValue)
                words.append(error.errorClass.rawValue)
                words.append(error.message)
            }
            if let reason = step.skipReason { words.append(reason) }
        }
        return .object([
            "id": .string(run.id), "workflow": .string(run.workflow), "status": .string(run.status.rawValue),
            "trigger": .string(run.trigger), "step": .array(steps.map { .string($0.id) }),
            "plugin": .array(Set(steps.compactMap(\.plugin)).sorted().map(JSONValue.string)),
            "error": .array(Set(errors).sorted().map(JSONValue.string)),
            "text": .string(words.joined(separator: "\n")), "at": .number(run.createdAt),
            "seconds": .number(max(0, run.updatedAt - run.createdAt)),
        ])
    }

    func document(_ delivery: DeliveryRecord) -> JSONValue {
        var words = [delivery.channel, delivery.state.rawValue]
        if let errorClass = delivery.errorClass { words.append(errorClass) }
        if let error = delivery.error { words.append(error) }
        for value in delivery.message.objectValue?.values.sorted(by: { $0.jsonString() < $1.jsonString() }) ?? [] {
            if let text = value.stringValue { words.append(text) }
        }
        return .object([
            "id": .string(delivery.id), "notification": .string(delivery.notificationID), "channel": .string(delivery.channel),
            "state": .string(delivery.state.rawValue), "error": delivery.errorClass.map(JSONValue.string) ?? .null,
            "text": .string(words.joined(separator: "\n")), "at": .number(delivery.createdAt),
        ])
    }
}
