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
    private let lock = Mutex(())

    init(path: String, maximumBytes: Int = 8 << 20) {
        self.path = path
        self.maximumBytes = maximumBytes
    }

    func record(query: String, total: Int, microseconds: Int) {
        let line = JSONValue.object([
            "q": .string(String(query.prefix(512))), "hits": .number(Double(total)), "us": .number(Double(microseconds)),
            "at": .number(Date().timeIntervalSince1970.rounded()),
        ]).jsonString() + "\n"
        lock.withLock { _ in
            guard let handle = FileHandle(forWritingAtPath: path) ?? {
                FileManager.default.createFile(atPath: path, contents: nil)
                return FileHandle(forWritingAtPath: path)
            }() else { return }
            defer { try? handle.close() }
            let size = (try? handle.seekToEnd()) ?? 0
            if size > UInt64(maximumBytes) {
                try? handle.close()
                trim()
                guard let again = FileHandle(forWritingAtPath: path) else { return }
                _ = try? again.seekToEnd()
                again.write(Data(line.utf8))
                try? again.close()
                return
            }
            handle.write(Data(line.utf8))
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
        let text = lock.withLock { _ in (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
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
