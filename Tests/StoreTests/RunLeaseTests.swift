import Foundation
import Testing
import TrellisCore
@testable import TrellisStore

/// One owner per run, as the store keeps it: leases on a real SQLite file,
/// shared by two store connections as two processes would share it.
@Suite final class RunLeaseTests {
    let directory: String
    let store: SQLiteStore
    /// A second connection to the same file (another process's view).
    let other: SQLiteStore

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-lease-\(UUID().uuidString)").path
        store = try SQLiteStore(path: "\(directory)/trellis.db")
        other = try SQLiteStore(path: "\(directory)/trellis.db")
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    let queued = RunEvent.runQueued(RunQueued(workflow: "w", file: "w.yaml", source: "name: w", inputs: [:], trigger: "manual"))

    /// An owner on another machine (its process cannot be checked from here).
    func remote(_ name: String, lease: Double = 10) -> LeaseOwner {
        LeaseOwner(id: "\(name)/1/x", host: "\(name).example", pid: 1, processStart: 1, leaseSeconds: lease)
    }

    /// A new run, queued with no owner (as `trellis trigger` leaves it).
    func queue(_ id: String, owner: LeaseOwner? = nil, at time: Double = 1000) throws -> RunState {
        var state = RunState(id: id)
        state.apply(queued, at: time)
        try store.append([RunAppend(runID: id, expectedVersion: 0, events: [queued], time: time, state: state, owner: owner)])
        return state
    }

    func append(_ event: RunEvent, to state: inout RunState, by owner: LeaseOwner?, in store: SQLiteStore? = nil,
                at time: Double = 1001) throws(StoreError) {
        var next = state
        next.apply(event, at: time)
        try (store ?? self.store).append([RunAppend(runID: state.id, expectedVersion: state.version, events: [event], time: time,
                                                    state: next, owner: owner)])
        state = next
    }

    @Test func aLeaseIsHeldUntilItExpiresAndThenAnotherTakesIt() throws {
        _ = try queue("r1")
        let a = remote("a"), b = remote("b")
        #expect(try store.acquireLease(run: "r1", owner: a, now: 1000) == .acquired)
        #expect(try store.acquireLease(run: "r1", owner: a, now: 1001) == .acquired, "its own lease again")
        guard case .held(let holder) = try other.acquireLease(run: "r1", owner: b, now: 1005) else {
            Issue.record("b took a live lease")
            return
        }
        #expect(holder.owner == a.id)
        #expect(holder.host == "a.example")
        #expect(holder.since == 1001)
        #expect(holder.expires == 1011)
        #expect(holder.description.hasPrefix("host a.example, pid 1, since "))
        #expect(try other.acquireLease(run: "r1", owner: b, now: 1011) == .acquired, "expired")
        #expect(try store.leaseHolder(run: "r1")?.owner == b.id)
    }

    @Test func anAppendFromAProcessWithoutTheLeaseIsRefused() throws {
        let a = remote("a"), b = remote("b")
        var state = try queue("r1", owner: a)
        #expect(try store.leaseHolder(run: "r1")?.owner == a.id, "a new run is created with its creator's lease")
        try append(.runStarted, to: &state, by: a)
        // b has no lease: refused, even at the right version.
        var stale = state
        #expect(throws: StoreError.self) { try self.append(.stepStarted(step: "s", attempt: 1, key: "r1/s", plugin: "p"), to: &stale, by: b, in: self.other) }
        #expect(throws: StoreError.self) { try self.append(.stepStarted(step: "s", attempt: 1, key: "r1/s", plugin: "p"), to: &stale, by: nil) }
        do {
            try append(.stepStarted(step: "s", attempt: 1, key: "r1/s", plugin: "p"), to: &stale, by: b, in: other)
        } catch {
            #expect(error.code == .leaseLost)
            #expect(error.message.contains("held by host a.example, pid 1"), "\(error.message)")
        }
        #expect(try store.events(run: "r1").count == 2, "nothing was written")

        // b takes the expired lease over: now a is refused.
        #expect(try other.acquireLease(run: "r1", owner: b, now: 2000) == .acquired)
        var asA = state
        #expect(throws: StoreError.self) { try self.append(.stepStarted(step: "s", attempt: 1, key: "r1/s", plugin: "p"), to: &asA, by: a) }
        try append(.stepStarted(step: "s", attempt: 1, key: "r1/s", plugin: "p"), to: &state, by: b, in: other)
        #expect(try store.events(run: "r1").count == 3)
    }

    @Test func finishingOrInterruptingARunGivesItsLeaseUp() throws {
        let a = remote("a")
        var first = try queue("r1", owner: a)
        try append(.runStarted, to: &first, by: a)
        try append(.runInterrupted, to: &first, by: a)
        #expect(try store.leaseHolder(run: "r1") == nil)
        #expect(try store.acquireLease(run: "r1", owner: remote("b"), now: 1002) == .acquired)

        var second = try queue("r2", owner: a)
        try append(.runFinished(status: .succeeded, message: nil), to: &second, by: a)
        #expect(try store.leaseHolder(run: "r2") == nil)
        #expect(try store.acquireLease(run: "r2", owner: remote("b"), now: 1002) == .finished(.succeeded))
        #expect(try store.acquireLease(run: "nope", owner: a, now: 1002) == .missing)
    }

    @Test func aDeadProcessOnThisMachineLosesItsLeaseAtOnce() throws {
        _ = try queue("r1")
        // A process of this machine that has exited: its pid no longer
        // exists, or belongs to a process started later.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let host = LeaseOwner.hostName
        let dead = LeaseOwner(id: "dead", host: host, pid: child.processIdentifier, processStart: 12345, leaseSeconds: 60)
        let now = Date().timeIntervalSince1970
        #expect(try store.acquireLease(run: "r1", owner: dead, now: now) == .acquired)
        let me = LeaseOwner.current(leaseSeconds: 60)
        #expect(me.processStart > 0, "this process's start time is read from /proc")
        #expect(try other.acquireLease(run: "r1", owner: me, now: now + 1) == .acquired, "the holder is gone")

        // A live process of this machine keeps its lease until it expires.
        let live = LeaseOwner.current(leaseSeconds: 60)
        guard case .held = try store.acquireLease(run: "r1", owner: live, now: now + 2) else {
            Issue.record("a live holder lost its lease")
            return
        }
    }

    @Test func claimingTakesOnlyRunsNobodyLiveHolds() throws {
        let a = remote("a"), b = remote("b")
        _ = try queue("free", at: 1000)
        _ = try queue("held", owner: a, at: 1001)
        _ = try queue("expired", owner: a, at: 1002)
        #expect(try store.renewLeases(owner: a, now: 1003).held == ["held", "expired"])
        // `held` is renewed again; `expired` is not (a renewal renews all, so make it stale by hand).
        try store.releaseLease(run: "expired", owner: a)
        #expect(try store.acquireLease(run: "expired", owner: remote("c", lease: 1), now: 1004) == .acquired)
        let claimed = try other.claimUnfinishedRuns(owner: b, limit: 10, now: 1006)
        #expect(claimed == ["free", "expired"])
        #expect(try other.claimUnfinishedRuns(owner: b, limit: 10, now: 1007).isEmpty, "its own runs are not claimed again")
        #expect(try store.renewLeases(owner: a, now: 1007).held == ["held"])
        #expect(try store.renewLeases(owner: b, now: 1007).held == ["free", "expired"])
        try store.releaseLeases(owner: b)
        #expect(try store.renewLeases(owner: b, now: 1008).held.isEmpty)
        #expect(try store.claimUnfinishedRuns(owner: a, limit: 1, now: 1008) == ["free"], "at most the limit")
    }

    @Test func aCancelRequestReachesTheHolderAtItsRenewal() throws {
        let a = remote("a")
        _ = try queue("r1", owner: a)
        #expect(try store.renewLeases(owner: a, now: 1001).cancelRequests.isEmpty)
        #expect(try other.requestCancel(run: "r1", reason: "stop it"))
        #expect(try store.renewLeases(owner: a, now: 1002).cancelRequests == ["r1": "stop it"])
        #expect(try !other.requestCancel(run: "nope", reason: "x"))
    }
}
