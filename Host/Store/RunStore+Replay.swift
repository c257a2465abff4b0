import TrellisCore

/// What `trellis runs replay` found: the state folded from every event, and
/// where the stored projection (and the snapshot path) differ from it.
public struct ReplayReport: Sendable {
    public var folded: RunState
    public var differences: [String]
    public var eventCount: Int
}

extension RunStore {
    /// Folds a run's events from the first and compares the result with the
    /// stored run row, the stored step rows, and the snapshot-based state.
    public func replay(run: String) throws(StoreError) -> ReplayReport? {
        let events = try events(run: run)
        guard !events.isEmpty else { return nil }
        let folded = RunState.fold(id: run, events.map { ($0.event, $0.time) })
        var differences: [String] = []
        if let loaded = try loadState(run: run), loaded != folded {
            differences.append("the state loaded from the latest snapshot differs from the full replay")
        }
        if let record = try runRecord(run) {
            if record.status != folded.status { differences.append("run status: stored \(record.status.rawValue), replayed \(folded.status.rawValue)") }
            if record.version != folded.version { differences.append("run version: stored \(record.version), replayed \(folded.version)") }
            if record.message != folded.message {
                differences.append("run message: stored \(record.message ?? "none"), replayed \(folded.message ?? "none")")
            }
        } else {
            differences.append("the run has events but no run row")
        }
        let stored = Dictionary(try stepRecords(run: run).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for id in Set(stored.keys).union(folded.steps.keys).sorted() {
            switch (stored[id], folded.steps[id]) {
            case (nil, _?): differences.append("step \(id): missing from the stored projection")
            case (_?, nil): differences.append("step \(id): stored, but no event mentions it")
            case let (row?, replayed?) where row != replayed:
                var fields: [String] = []
                if row.status != replayed.status { fields.append("status \(row.status.rawValue) vs \(replayed.status.rawValue)") }
                if row.attempts != replayed.attempts { fields.append("attempts \(row.attempts) vs \(replayed.attempts)") }
                if row.output != replayed.output { fields.append("output") }
                if fields.isEmpty { fields.append("details") }
                differences.append("step \(id): stored differs from replayed (\(fields.joined(separator: ", ")))")
            default: break
            }
        }
        return ReplayReport(folded: folded, differences: differences, eventCount: events.count)
    }
}
