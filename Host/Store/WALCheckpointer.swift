import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// Copies the WAL back into the database file on its own thread.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses its
/// threshold, so now and then one commit pays for copying a thousand pages
/// and two `fdatasync`s: milliseconds on the runner's thread, between two
/// steps. Here the writer's WAL hook only signals; a passive checkpoint on a
/// connection of its own copies the bulk while the writer goes on.
///
/// SQLite starts the WAL over only once every frame in it is copied, which a
/// checkpoint running beside a busy writer never sees: new frames arrive
/// while it copies. So when a background pass has copied all but a few
/// frames, the writer copies those few itself (a short checkpoint) and its
/// next transaction starts the WAL over. Should the WAL still grow far past
/// the threshold (checkpoints starved by readers), the writer checkpoints it
/// whole, so the file stays bounded.
final class WALCheckpointer: @unchecked Sendable {
    /// WAL frames (pages) after which a checkpoint starts.
    static let thresholdFrames: Int32 = 1000
    /// WAL frames after which the writer checkpoints on its own thread.
    static let writerFrames: Int32 = 20_000
    /// At most this many frames left after a background pass: the writer
    /// finishes the checkpoint.
    static let tailFrames: Int32 = 256

    /// Frames in the WAL the last background pass had copied (0: none yet).
    private let copied = Atomic<Int32>(0)

    private let path: String
    private let condition = NSCondition()
    private var pending = false
    private var running = false
    private var stopping = false
    private var copyingPasses = 0
    private let finished = DispatchSemaphore(value: 0)

    init(path: String) {
        self.path = path
        let thread = Thread { [self] in run() }
        thread.name = "trellis-checkpoint"
        thread.start()
    }

    /// Installs the hook on the writer's connection (replacing SQLite's
    /// automatic checkpoint, which uses the same hook).
    func attach(to connection: OpaquePointer) {
        let context = Unmanaged.passUnretained(self).toOpaque()
        sqlite3_wal_hook(connection, { context, connection, _, frames in
            let checkpointer = Unmanaged<WALCheckpointer>.fromOpaque(context!).takeUnretainedValue()
            let copied = checkpointer.copied.load(ordering: .acquiring)
            if frames >= WALCheckpointer.writerFrames || (copied > 0 && frames - copied <= WALCheckpointer.tailFrames) {
                checkpointer.copied.store(0, ordering: .releasing)
                sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            } else if frames >= WALCheckpointer.thresholdFrames {
                checkpointer.request()
            }
            return SQLITE_OK
        }, context)
    }

    private func request() {
        condition.lock()
        pending = true
        condition.broadcast()
        condition.unlock()
    }

    /// Background passes that copied frames so far.
    var passes: Int {
        condition.lock()
        defer { condition.unlock() }
        return copyingPasses
    }

    /// Blocks until no pass is requested or under way: lets a test take the
    /// scheduling out of what it checks.
    func waitUntilIdle() {
        condition.lock()
        while pending || running { condition.wait() }
        condition.unlock()
    }

    /// Stops the thread (after a checkpoint under way ends). Once: later
    /// calls return at once.
    func stop() {
        condition.lock()
        let first = !stopping
        stopping = true
        condition.signal()
        condition.unlock()
        if first { finished.wait() }
    }

    private func run() {
        var connection: OpaquePointer?
        defer {
            sqlite3_close_v2(connection)
            finished.signal()
        }
        while true {
            condition.lock()
            while !pending && !stopping { condition.wait() }
            let stop = stopping
            pending = false
            running = !stop
            condition.unlock()
            if stop { return }
            defer {
                condition.lock()
                running = false
                condition.broadcast()
                condition.unlock()
            }
            if connection == nil {
                // Opened at the first request: by then the file exists.
                guard sqlite3_open_v2(path, &connection, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK else {
                    sqlite3_close_v2(connection)
                    connection = nil
                    continue
                }
                // A new connection sees the WAL only once it has read the database.
                sqlite3_exec(connection, "SELECT count(*) FROM sqlite_master", nil, nil, nil)
            }
            // Passive: copies what no reader still needs, never blocks the writer.
            var logged: Int32 = 0, backfilled: Int32 = 0
            if sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, &logged, &backfilled) == SQLITE_OK,
               backfilled > 0 {
                copied.store(backfilled, ordering: .releasing)
                condition.lock()
                copyingPasses += 1
                condition.unlock()
            }
        }
    }
}
