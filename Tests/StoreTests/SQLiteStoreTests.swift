import Foundation
import Synchronization
import Testing
import TrellisCore
@testable import TrellisStore

/// The real store on a real SQLite file in a temporary directory.
@Suite final class SQLiteStoreTests {
    let directory: String
    let store: SQLiteStore

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-store-\(UUID().uuidString)").path
        var configuration = SQLiteStore.Configuration()
        configuration.snapshotInterval = 4
        configuration.snapshotEventsPerStep = 1
        store = try SQLiteStore(path: "\(directory)/trellis.db", configuration: configuration)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// Appends events to a run the way the runner does: fold, then append with the version it expects.
    @discardableResult
    func append(_ events: [RunEvent], to state: inout RunState, at time: Double = 1000) throws -> RunState {
        let expected = state.version
        for event in events { state.apply(event, at: time) }
        try store.append([RunAppend(runID: state.id, expectedVersion: expected, events: events, time: time, state: state)])
        return state
    }

    let queued = RunEvent.runQueued(RunQueued(workflow: "w", file: "w.yaml", source: "name: w", inputs: ["n": 1], trigger: "manual"))

    @Test func eventsRoundTripAndProjectionsFollow() throws {
        var state = RunState(id: "r1")
        try append([queued, .runStarted], to: &state)
        try append([.stepStarted(step: "a", attempt: 1, key: "r1/a", plugin: "fixture.flaky")], to: &state, at: 1001)
        try append([.stepAttemptFailed(step: "a", attempt: 1, errorClass: .retryable, message: "reset",
                                       retryAfterMilliseconds: 0, timedOut: false),
                    .recoveryDecided(step: "a", attempt: 1, strategy: "recovery.fixed-delay", decision: "retry", delayMilliseconds: 100, detail: nil),
                    .stepStarted(step: "a", attempt: 2, key: "r1/a", plugin: "fixture.flaky"),
                    .stepSucceeded(step: "a", attempt: 2, output: ["text": "hi"], fromCache: false, quality: nil),
                    .runFinished(status: .succeeded, message: nil)], to: &state, at: 1002)

        let events = try store.events(run: "r1")
        #expect(events.map(\.version) == Array(1...8))
        #expect(events.map(\.event.type) == ["run_queued", "run_started", "step_started", "step_attempt_failed",
                                              "recovery_decided", "step_started", "step_succeeded", "run_finished"])
        #expect(events[3].event == .stepAttemptFailed(step: "a", attempt: 1, errorClass: .retryable, message: "reset",
                                                      retryAfterMilliseconds: 0, timedOut: false))

        let record = try #require(try store.runRecord("r1"))
        #expect(record.status == .succeeded)
        #expect(record.version == 8)
        #expect(record.createdAt == 1000)
        let steps = try store.stepRecords(run: "r1")
        #expect(steps.count == 1)
        #expect(steps[0].status == .succeeded)
        #expect(steps[0].attempts == 2)
        #expect(steps[0].output == ["text": "hi"])
        #expect(steps[0].decisions.first?.decision == "retry")
        #expect(steps[0].startedAt == 1001)
        #expect(steps[0].finishedAt == 1002)
        #expect(try store.loadState(run: "r1") == state)
        #expect(try store.unfinishedRuns() == [])
    }

    @Test func anAppendAtAStaleVersionFailsCleanly() throws {
        var state = RunState(id: "r2")
        try append([queued], to: &state)
        var stale = state
        try append([.runStarted], to: &state)
        stale.apply(.cancelRequested(reason: "x"), at: 1)
        do {
            try store.append([RunAppend(runID: "r2", expectedVersion: 1, events: [.cancelRequested(reason: "x")],
                                        time: 1, state: stale)])
            Issue.record("a stale append must fail")
        } catch {
            #expect(error.code == .conflict)
            #expect(error.message.contains("is at version 2, not 1"))
        }
        #expect(try store.events(run: "r2").count == 2, "nothing was written")
        #expect(try store.runRecord("r2")?.status == .running)
    }

    @Test func aBatchIsAtomicAcrossRuns() throws {
        var one = RunState(id: "b1"), two = RunState(id: "b2")
        try append([queued], to: &one)
        let expectedOne = one.version
        one.apply(.runStarted, at: 1)
        two.apply(queued, at: 1)
        // The second append expects the wrong version: neither may land.
        let batch = [RunAppend(runID: "b1", expectedVersion: expectedOne, events: [.runStarted], time: 1, state: one),
                     RunAppend(runID: "b2", expectedVersion: 5, events: [queued], time: 1, state: two)]
        #expect(throws: StoreError.self) { try store.append(batch) }
        #expect(try store.events(run: "b1").count == 1)
        #expect(try store.events(run: "b2").isEmpty)
    }

    @Test func snapshotsKeepLoadingCheapAndCorrect() throws {
        var state = RunState(id: "s")
        try append([queued, .runStarted], to: &state)
        for index in 0..<10 {
            try append([.stepStarted(step: "s\(index)", attempt: 1, key: "k", plugin: "fixture.flaky"),
                        .stepSucceeded(step: "s\(index)", attempt: 1, output: .number(Double(index)), fromCache: false, quality: nil)],
                       to: &state, at: Double(1000 + index))
        }
        let snapshots = try store.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM snapshots") ?? 0 }
        // After at least max(4, 1 × steps in the state) events since the last one:
        // at versions 4, 8 and 14 of 22.
        #expect(snapshots == 3)
        #expect(try store.loadState(run: "s") == state)
        let report = try #require(try store.replay(run: "s"))
        #expect(report.differences == [])
        #expect(report.eventCount == 22)
    }

    @Test func replayReportsADamagedProjection() throws {
        var state = RunState(id: "d")
        try append([queued, .runStarted, .stepStarted(step: "a", attempt: 1, key: "k", plugin: "fixture.flaky"),
                    .stepSucceeded(step: "a", attempt: 1, output: "x", fromCache: false, quality: nil)], to: &state)
        try store.database.write { db in
            try db.execute(sql: "UPDATE runs SET status = 'failed' WHERE id = 'd'")
            try db.execute(sql: "UPDATE steps SET status = 'failed', state = replace(state, 'succeeded', 'failed') WHERE run_id = 'd'")
        }
        let report = try #require(try store.replay(run: "d"))
        #expect(report.differences.contains("run status: stored failed, replayed running"))
        #expect(report.differences.contains { $0.hasPrefix("step a: stored differs from replayed (status failed vs succeeded") })
    }

    /// Commits leave checkpoints to the store's own thread: once a pass has
    /// copied the WAL, the writer starts it over, so it stays near its
    /// threshold instead of growing to the writer's fallback.
    @Test func theWALIsCheckpointedInTheBackground() throws {
        var state = RunState(id: "wal")
        try append([queued, .runStarted], to: &state)
        let big = JSONValue.string(String(repeating: "x", count: 3000))
        for index in 0..<3000 {   // about two pages per commit: far past the 1,000-frame threshold
            try append([.stepSucceeded(step: "s\(index % 50)", attempt: 1, output: big, fromCache: false, quality: nil)],
                       to: &state)
            // When the checkpoint thread gets a core is up to the OS (on a
            // loaded machine, seconds later): waiting for each requested pass
            // checks what a pass leads to, not how soon it runs.
            store.checkpointer.waitUntilIdle()
        }
        let walSize = (try FileManager.default.attributesOfItem(atPath: store.path + "-wal")[.size] as? Int) ?? 0
        let threshold = Int(WALCheckpointer.thresholdFrames) * 4096
        #expect(store.checkpointer.passes >= 3, "\(store.checkpointer.passes) background passes")
        #expect(walSize < 2 * threshold, "WAL of \(walSize) bytes: it was not started over after the passes")
        #expect(try store.loadState(run: "wal") == state)
    }

    @Test func unfinishedRunsAreListed() throws {
        var running = RunState(id: "u1"), done = RunState(id: "u2")
        try append([queued, .runStarted], to: &running)
        try append([queued, .runStarted, .runFinished(status: .failed, message: "boom")], to: &done)
        #expect(try store.unfinishedRuns() == ["u1"])
        #expect(try store.runRecords(limit: 10, status: .failed).map(\.id) == ["u2"])
        #expect(try store.runRecord("u2")?.message == "boom")
    }

    @Test func cacheHonoursMaxAge() throws {
        try store.storeCachedOutput(key: "k", output: ["v": 1], at: 100)
        #expect(try store.cachedOutput(key: "k", maxAge: 60, now: 150)?.output == ["v": 1])
        #expect(try store.cachedOutput(key: "k", maxAge: 60, now: 161) == nil)
        #expect(try store.cachedOutput(key: "other", maxAge: 60, now: 150) == nil)
    }

    @Test func aCorruptEventIsReportedNotSkipped() throws {
        var state = RunState(id: "c")
        try append([queued], to: &state)
        try store.database.write { db in try db.execute(sql: "UPDATE events SET type = 'mystery' WHERE run_id = 'c'") }
        do {
            _ = try store.events(run: "c")
            Issue.record("must fail")
        } catch {
            #expect(error.code == .corrupt)
            #expect(error.message.contains("unknown event type 'mystery'"))
        }
    }

    @Test func theFileIsWAL() throws {
        let mode = try store.database.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        #expect(FileManager.default.fileExists(atPath: "\(directory)/trellis.db"))
    }
}

@Suite struct StoreOpeningTests {
    @Test func severalOpenersOfANewStoreAllSucceed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-open-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let failures = Mutex<[String]>([])
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<6 {
            Thread {
                do {
                    _ = try SQLiteStore(path: "\(directory)/shared.db")
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
                done.signal()
            }.start()
        }
        for _ in 0..<6 { done.wait() }
        #expect(failures.withLock { $0 } == [])
    }

    @Test func anUnwritableLocationIsAClearError() {
        do {
            _ = try SQLiteStore(path: "/proc/trellis/store.db")
            Issue.record("must fail")
        } catch {
            #expect(error.code == .unavailable)
            #expect(error.message.contains("/proc/trellis/store.db"))
        }
    }
}
