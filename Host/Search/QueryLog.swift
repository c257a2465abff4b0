import Foundation
import Synchronization
import TrellisCore

/// Search analytics of one index: every query with its hit count and time,
/// appended as JSON lines to `queries.log` in the index's folder (kept
/// below a size bound: the older half is dropped), and read back for the
/// top queries and the queries that found nothing.
public final class QueryLog: Sendable {
    let path: String
    let maximumBytes: Int
    /// The open log (appending) and its size; opened at the first query.
    private let state = Mutex<(descriptor: Int32, size: Int)>((-1, 0))

    init(path: String, maximumBytes: Int = 8 << 20) {
        self.path = path
        self.maximumBytes = maximumBytes
    }

    deinit {
        let descriptor = state.withLock { $0.descriptor }
        if descriptor >= 0 { close(descriptor) }
    }

    /// Appends one line with one write; a failure to log never fails a query.
    func record(query: String, total: Int, microseconds: Int) {
        let line = Array((JSONValue.object([
            "q": .string(String(query.prefix(512))), "hits": .number(Double(total)), "us": .number(Double(microseconds)),
            "at": .number(Date().timeIntervalSince1970.rounded()),
        ]).jsonString() + "\n").utf8)
        state.withLock { state in
            if state.descriptor < 0 {
                state.descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
                guard state.descriptor >= 0 else { return }
                state.size = Int(lseek(state.descriptor, 0, SEEK_END))
            }
            if state.size > maximumBytes {
                close(state.descriptor)
                trim()
                state.descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
                guard state.descriptor >= 0 else { return }
                state.size = Int(lseek(state.descriptor, 0, SEEK_END))
            }
            let written = line.withUnsafeBytes { write(state.descriptor, $0.baseAddress, $0.count) }
            if written > 0 { state.size += written }
        }
    }

    /// Keeps the newer half of the log.
    private func trim() {
        guard let data = FileManager.default.contents(atPath: path) else { return }
        let half = data.count / 2
        let cut = data[half...].firstIndex(of: 0x0A).map { $0 + 1 } ?? data.count
        try? Data(data[cut...]).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    public struct Summary: Sendable {
        public var queries: Int
        public var top: [(query: String, count: Int)]
        public var zeroResults: [(query: String, count: Int)]
        public var p50Microseconds: Int
        public var p99Microseconds: Int
    }

    public func summary(limit: Int = 10) -> Summary {
        let text = state.withLock { _ in (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
        var counts: [String: Int] = [:], zero: [String: Int] = [:]
        var times: [Int] = []
        for line in text.split(separator: "\n") {
            guard let value = try? JSONValue(json: Array(line.utf8)), let query = value["q"]?.stringValue else { continue }
            let normalized = query.lowercased().split(separator: " ").joined(separator: " ")
            counts[normalized, default: 0] += 1
            if value["hits"]?.intValue == 0 { zero[normalized, default: 0] += 1 }
            times.append(value["us"]?.intValue ?? 0)
        }
        times.sort()
        func top(_ counts: [String: Int]) -> [(query: String, count: Int)] {
            counts.map { ($0.key, $0.value) }.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.prefix(limit).map { ($0.0, $0.1) }
        }
        func percentile(_ p: Double) -> Int { times.isEmpty ? 0 : times[min(times.count - 1, Int(Double(times.count) * p))] }
        return Summary(queries: times.count, top: top(counts), zeroResults: top(zero), p50Microseconds: percentile(0.5),
                       p99Microseconds: percentile(0.99))
    }
}
