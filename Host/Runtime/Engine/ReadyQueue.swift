import TrellisCore

/// Ready steps across all runs: higher priority first, then first come
/// first served. One FIFO per priority level.
struct ReadyQueue {
    struct Entry {
        var runID: String
        var stepID: String
        var attempt: Int
    }

    private var levels: [[Entry]] = Array(repeating: [], count: Priority.allCases.count)
    private var heads: [Int] = Array(repeating: 0, count: Priority.allCases.count)

    var isEmpty: Bool { levels.indices.allSatisfy { heads[$0] == levels[$0].count } }

    mutating func push(_ entry: Entry, priority: Priority) {
        levels[priority.rank].append(entry)
    }

    /// Takes entries, highest priority first, while `accept` returns true
    /// for `.take`; entries it `.defer`s stay queued in order; `.drop`s are removed.
    enum Verdict { case take, keep, drop, stop }

    mutating func drain(_ decide: (Entry) -> Verdict) {
        for level in levels.indices.reversed() {
            var kept: [Entry] = []
            var index = heads[level]
            var stopped = false
            while index < levels[level].count {
                let entry = levels[level][index]
                index += 1
                switch decide(entry) {
                case .take, .drop: continue
                case .keep: kept.append(entry)
                case .stop:
                    kept.append(entry)
                    stopped = true
                }
                if stopped { break }
            }
            let rest = Array(levels[level][index...])
            levels[level] = kept + rest
            heads[level] = 0
            if stopped { return }
        }
    }
}
