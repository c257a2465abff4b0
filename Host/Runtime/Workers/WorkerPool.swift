import Foundation
import Synchronization

/// Dedicated threads for blocking plugin calls. Plugins are called from
/// these, never from Swift's cooperative pool, so a slow or blocking plugin
/// cannot starve async code.
///
/// Threads start as jobs need them, up to the pool's capacity. A job whose
/// caller gave up on it (a timeout) keeps its thread until the plugin
/// returns; ``abandonOne()`` raises the capacity by one so the pool can still
/// run as many jobs at once, and ``release()`` lowers it when that job ends.
///
/// Waking a thread costs a system call and a context switch, which for a
/// short plugin call is more than the call. So a submit wakes one idle
/// thread, and a thread that takes a job while more wait wakes the next: a
/// burst spreads over the threads it needs, and the submitter pays one wake.
/// One idle thread at a time polls briefly for the next job before it parks
/// (see ``spin(forMicroseconds:until:)``), so a job that follows soon after
/// the last one, as in a chain of steps, needs no wake at all.
public final class WorkerPool: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    /// Where the urgent jobs waiting end (at or before `head`: none wait).
    private var urgentEnd = 0
    private var target: Int
    private var alive = 0
    /// Threads waiting for a job.
    private var idle = 0
    /// Threads started that have not yet looked for a job.
    private var starting = 0
    /// Whether an idle thread is polling for jobs (at most one does).
    private var spinning = false
    /// Jobs waiting, readable without the lock (for the polling thread).
    private let waiting = Atomic<Int>(0)
    /// Whether an idle thread polls before it parks, and for how long.
    private var polling: PollingPolicy
    private var stopping = false
    private var nextName = 0
    private let name: String

    /// Threads are started as jobs need them, up to `threads`: a host that
    /// runs one short workflow does not pay for starting them all.
    public init(threads: Int, name: String = "trellis-worker", spinMicroseconds: UInt64 = 300) {
        target = max(1, threads)
        self.name = name
        polling = PollingPolicy(microseconds: spinMicroseconds)
    }

    /// Runs `job` on a worker thread as soon as one is free; an `urgent`
    /// job goes ahead of the waiting jobs that are not urgent.
    public func submit(urgent: Bool = false, _ job: @escaping @Sendable () -> Void) {
        condition.lock()
        if urgent {
            let at = max(head, urgentEnd)
            jobs.insert(job, at: at)
            urgentEnd = at + 1
        } else {
            jobs.append(job)
        }
        published()
        if idle > 0 && !spinning { condition.signal() }
        startThreadsIfNeeded()
        condition.unlock()
    }

    /// Runs each of `jobs` on a worker thread, in order, as threads free up.
    public func submit(contentsOf batch: [@Sendable () -> Void]) {
        guard !batch.isEmpty else { return }
        condition.lock()
        jobs.append(contentsOf: batch)
        published()
        if idle > 0 && (!spinning || batch.count > 1) { condition.signal() }
        startThreadsIfNeeded()
        condition.unlock()
    }

    /// A job was abandoned (its thread is stuck in a plugin): one more thread may start.
    public func abandonOne() {
        condition.lock()
        target += 1
        startThreadsIfNeeded()
        condition.unlock()
    }

    /// Jobs the pool can run at once (its threads, started or not).
    public var capacity: Int {
        condition.lock()
        defer { condition.unlock() }
        return target
    }

    /// A previously abandoned job finished: its extra thread may go.
    public func release() {
        condition.lock()
        target -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Jobs submitted and not yet started.
    public var waitingJobs: Int {
        condition.lock()
        defer { condition.unlock() }
        return jobs.count - head
    }

    /// Threads currently alive (for tests and metrics).
    public var threadCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return alive
    }

    /// Stops accepting work; idle threads exit.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    /// Starts a thread for each waiting job that no thread will take (idle,
    /// polling or just started), up to the target. Call with the lock held.
    private func startThreadsIfNeeded() {
        let uncovered = (jobs.count - head) - idle - starting - (spinning ? 1 : 0)
        for _ in 0..<max(0, min(uncovered, target - alive)) { spawn() }
    }

    /// Must be called with the lock held.
    private func spawn() {
        alive += 1
        starting += 1
        nextName += 1
        let thread = Thread { self.work() }
        thread.name = "\(name)-\(nextName)"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Must be called with the lock held, after `jobs` or `head` change.
    private func published() {
        waiting.store(jobs.count - head, ordering: .releasing)
    }

    private func work() {
        condition.lock()
        starting -= 1
        while true {
            var polled = false
            while head == jobs.count && !stopping && alive <= target {
                if !spinning && !polled && polling.shouldPoll() {
                    polled = true
                    spinning = true
                    condition.unlock()
                    let caught = spin(forMicroseconds: polling.microseconds) { waiting.load(ordering: .acquiring) > 0 }
                    condition.lock()
                    spinning = false
                    polling.polled(caughtWork: caught)
                    continue
                }
                idle += 1
                condition.wait()
                idle -= 1
                polled = false
            }
            if alive > target || (stopping && head == jobs.count) {
                alive -= 1
                condition.unlock()
                return
            }
            let job = jobs[head]
            head += 1
            published()
            // More wait: hand the wake on to the next idle thread.
            if head < jobs.count && idle > 0 { condition.signal() }
            if head > 1024 && head * 2 > jobs.count {
                jobs.removeFirst(head)
                urgentEnd = max(0, urgentEnd - head)
                head = 0
                published()
            }
            condition.unlock()
            job()
            condition.lock()
        }
    }
}
