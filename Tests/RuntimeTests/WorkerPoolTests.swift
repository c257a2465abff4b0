import Foundation
import Synchronization
import Testing
@testable import TrellisRuntime

@Suite struct WorkerPoolTests {
    @Test func urgentJobsGoAheadOfTheWaitingOnes() throws {
        let pool = WorkerPool(threads: 1, name: "test-pool")
        defer { pool.shutdown() }
        let gate = DispatchSemaphore(value: 0)
        let order = Mutex<[String]>([])
        let done = DispatchSemaphore(value: 0)
        // The only thread is busy until the gate opens; the others wait.
        let busy = DispatchSemaphore(value: 0)
        pool.submit { busy.signal(); gate.wait() }
        busy.wait()
        for name in ["a", "b"] { pool.submit { order.withLock { $0.append(name) } } }
        pool.submit(urgent: true) { order.withLock { $0.append("urgent 1") } }
        pool.submit(urgent: true) { order.withLock { $0.append("urgent 2") } }
        pool.submit { done.signal() }
        #expect(pool.waitingJobs == 5)
        gate.signal()
        done.wait()
        // Urgent ones first, in the order they came; then the rest.
        #expect(order.withLock { $0 } == ["urgent 1", "urgent 2", "a", "b"])
        #expect(pool.waitingJobs == 0)
    }

    /// A thread polls for a while after its job, then parks: a job that comes
    /// during the poll, or after the thread parked, runs all the same.
    @Test func jobsComingWhileAThreadPollsOrAfterItParkedAllRun() {
        let pool = WorkerPool(threads: 2, name: "test-pool", spinMicroseconds: 300)
        defer { pool.shutdown() }
        let ran = DispatchSemaphore(value: 0)
        // Gaps inside the poll window, around its end, and well after it.
        for gap in [0, 50, 200, 290, 310, 400, 2_000, 20_000, 0, 0] {
            usleep(UInt32(gap))
            pool.submit { ran.signal() }
            #expect(ran.wait(timeout: .now() + 5) == .success, "a job submitted \(gap) µs after the last one did not run")
        }
    }

    /// A burst submitted while one thread polls still spreads over the
    /// threads: four jobs that each wait for all four finish only if they
    /// run at once.
    @Test func aBurstSpreadsOverTheThreadsWhileOnePolls() {
        for batch in [true, false] {
            let pool = WorkerPool(threads: 4, name: "test-pool", spinMicroseconds: 10_000)
            defer { pool.shutdown() }
            let warm = DispatchSemaphore(value: 0)
            pool.submit { warm.signal() }
            warm.wait()   // that thread now polls for 10 ms
            let arrived = Atomic<Int>(0)
            let sawAllFour = Atomic<Int>(0)
            let finished = DispatchSemaphore(value: 0)
            let job: @Sendable () -> Void = {
                arrived.add(1, ordering: .relaxed)
                let deadline = Date().addingTimeInterval(2)
                while arrived.load(ordering: .relaxed) < 4 && Date() < deadline { usleep(100) }
                if arrived.load(ordering: .relaxed) == 4 { sawAllFour.add(1, ordering: .relaxed) }
                finished.signal()
            }
            if batch { pool.submit(contentsOf: Array(repeating: job, count: 4)) } else { for _ in 0..<4 { pool.submit(job) } }
            for _ in 0..<4 { _ = finished.wait(timeout: .now() + 10) }
            #expect(sawAllFour.load(ordering: .relaxed) == 4, "the jobs of a \(batch ? "batch" : "run of submits") did not run at once")
        }
    }

    /// Polling stops once it keeps missing, comes back after a while, and
    /// stays on while it keeps catching work.
    @Test func pollingStopsWhenItDoesNotPayAndTriesAgainLater() {
        var policy = PollingPolicy(microseconds: 300)
        var asked: [Bool] = []
        func ask() { asked.append(policy.shouldPoll()) }
        ask()
        policy.polled(caughtWork: true)
        ask()
        policy.polled(caughtWork: false)
        ask()   // one miss after a catch: still worth it
        policy.polled(caughtWork: false)
        ask()   // two: it stops
        usleep(6_000)
        ask()   // tried again after a while
        policy.polled(caughtWork: true)
        ask()
        // However many misses came before, one catch turns it back on.
        for _ in 0..<6 { policy.polled(caughtWork: false) }
        ask()
        usleep(6_000)
        ask()
        policy.polled(caughtWork: true)
        ask()
        #expect(asked == [true, true, true, false, true, true, false, true, true])
        var off = PollingPolicy(microseconds: 0)
        let offPolls = off.shouldPoll()
        #expect(!offPolls)
    }

    /// Threads start as jobs need them and never beyond the capacity.
    @Test func threadsStartAsJobsNeedThem() {
        let pool = WorkerPool(threads: 4, name: "test-pool", spinMicroseconds: 0)
        defer { pool.shutdown() }
        #expect(pool.threadCount == 0)
        let gate = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let blocking: @Sendable () -> Void = { started.signal(); gate.wait(); finished.signal() }
        pool.submit(blocking)
        started.wait()
        #expect(pool.threadCount == 1)
        pool.submit(contentsOf: Array(repeating: blocking, count: 5))
        for _ in 0..<3 { started.wait() }
        #expect(pool.threadCount == 4, "four jobs run at once, the other two wait")
        #expect(pool.waitingJobs == 2)
        for _ in 0..<6 { gate.signal() }
        for _ in 0..<6 { finished.wait() }
        #expect(pool.threadCount == 4)
    }
}
