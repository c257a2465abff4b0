import Foundation
import Synchronization

/// A thread that owns state: inputs arrive from any thread, and its
/// handler folds them in turns on this one thread (apply what happened,
/// decide, commit, hand out work). The run engine and the notification
/// service are each one of these.
///
/// The handler's own state is touched only on the loop thread; the handler
/// says so with ``preconditionOnLoop()`` (as swift-nio's
/// `preconditionInEventLoop`), which traps when it is called from any other.
///
/// Between turns the loop asks its handler how to park: poll for a while
/// (a call in flight may answer within microseconds, and waking a parked
/// thread costs more), wait until a deadline, wait for input, or run a turn
/// at once. A stop ends the loop once no input waits and the handler says it
/// may end.
final class OwnerLoop<Handler: OwnerLoopHandler>: @unchecked Sendable {
    typealias Input = Handler.Input

    /// How the loop waits when no input is there.
    enum Park {
        /// Run a turn now (something is due).
        case turnNow
        /// Poll for input for this long before asking again.
        case poll(microseconds: UInt64)
        /// Wait for input, at most this many seconds (nil: until input comes).
        case wait(seconds: Double?)
    }

    private let condition = NSCondition()
    // Under `condition`.
    private var inbox: [Input] = []
    private var stopRequested = false
    /// Inputs waiting, readable without the lock (for polling).
    private let waiting = Atomic<Int>(0)
    private let ended = DispatchSemaphore(value: 0)
    private let name: String
    /// The loop thread, once it runs.
    private let owner = Mutex<pthread_t?>(nil)
    /// Held strongly while the loop runs (the thread uses it), let go when it ends.
    private var handler: Handler!

    /// A loop for `handler`, which it keeps alive until `stop()`. Its thread
    /// starts with `start()`: a handler keeps the loop in a property first,
    /// so a turn that comes at once finds it there.
    init(name: String, handler: Handler) {
        self.name = name
        self.handler = handler
    }

    /// Starts the loop thread (once).
    func start() {
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    // MARK: - Any thread

    /// Queues an input and wakes the loop. `locked` runs under the loop's
    /// lock, for state that waiters read with it.
    func send(_ input: Input, locked: () -> Void = {}) {
        send(input, wakeWhen: { _, _ in true }, locked: locked)
    }

    /// Queues an input and wakes a parked loop only when `wakeWhen` says so,
    /// given the inputs now queued and whether a stop is asked (for inputs
    /// that can wait, at most the loop's current wait, to be batched).
    func send(_ input: Input, wakeWhen: (_ queued: Int, _ stopping: Bool) -> Bool, locked: () -> Void = {}) {
        condition.lock()
        inbox.append(input)
        waiting.store(inbox.count, ordering: .releasing)
        locked()
        if wakeWhen(inbox.count, stopRequested) { condition.broadcast() }
        condition.unlock()
    }

    /// Whether a stop has been asked.
    var isStopping: Bool { withLock { stopRequested } }

    /// Inputs queued and not yet taken by a turn.
    var pendingInputs: Int { waiting.load(ordering: .acquiring) }

    /// Makes a parked loop ask its handler again (after a test moves its clock).
    func wake() {
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    /// Waits on the loop's condition, under its lock, until `ready` holds
    /// (it is told whether the inbox is empty); `before` runs first, under
    /// the lock. The loop broadcasts every time it parks.
    func waitUntil(_ ready: (_ inboxEmpty: Bool) -> Bool, before: () -> Void = {}) {
        condition.lock()
        before()
        condition.broadcast()
        while !ready(inbox.isEmpty) { condition.wait() }
        condition.unlock()
    }

    /// Runs `body` under the loop's lock (for state waiters read with it).
    func withLock<T>(_ body: () -> T) -> T {
        condition.lock()
        defer { condition.unlock() }
        return body()
    }

    /// Asks the loop to end, and waits until it has. Once: later calls
    /// return at once (a service group and its owner may both stop it).
    func stop() {
        condition.lock()
        let first = !stopRequested
        stopRequested = true
        condition.broadcast()
        condition.unlock()
        if first { ended.wait() }
    }

    /// Whether the caller runs on the loop thread.
    var isOnLoop: Bool {
        guard let owner = owner.withLock({ $0 }) else { return false }
        return pthread_equal(owner, pthread_self()) != 0
    }

    /// Traps unless called on the loop thread: state the handler owns is
    /// touched there only.
    func preconditionOnLoop(file: StaticString = #fileID, line: UInt = #line) {
        precondition(isOnLoop, "\(name): state owned by its loop thread was touched from another thread", file: file, line: line)
    }

    // MARK: - The loop thread

    private func run() {
        owner.withLock { $0 = pthread_self() }
        handler.started()
        parking: while true {
            condition.lock()
            while inbox.isEmpty && !(stopRequested && handler.mayEnd()) {
                let park = handler.park(stopping: stopRequested)
                condition.broadcast()   // for `waitUntil`
                switch park {
                case .turnNow:
                    break
                case .poll(let microseconds):
                    condition.unlock()
                    let caught = spin(forMicroseconds: microseconds) { waiting.load(ordering: .acquiring) > 0 }
                    handler.polled(caught: caught)
                    condition.lock()
                    continue
                case .wait(let seconds?):
                    if seconds <= 0 { break }
                    if !condition.wait(until: Date(timeIntervalSinceNow: seconds)) { break }
                    continue
                case .wait(nil):
                    condition.wait()
                    continue
                }
                break
            }
            let inputs = inbox
            inbox.removeAll(keepingCapacity: true)
            waiting.store(0, ordering: .releasing)
            let stop = stopRequested && handler.mayEnd()
            condition.unlock()
            if stop && inputs.isEmpty { break parking }
            handler.turn(inputs)
        }
        handler.ended()
        handler = nil
        ended.signal()
    }
}

/// What an ``OwnerLoop`` runs. Every method is called on the loop thread.
protocol OwnerLoopHandler: AnyObject {
    associatedtype Input

    /// One turn with the inputs that came since the last (perhaps none:
    /// something fell due).
    func turn(_ inputs: [Input])

    /// How to wait while no input is there. Called with the loop's lock
    /// held, so what it sets for waiters is read consistently.
    func park(stopping: Bool) -> OwnerLoop<Self>.Park

    /// The loop thread has started (before its first wait).
    func started()

    /// After a poll: whether input came during it.
    func polled(caught: Bool)

    /// Whether the loop may end now that a stop is asked (nothing left in flight).
    func mayEnd() -> Bool

    /// The loop has ended.
    func ended()
}

extension OwnerLoopHandler {
    func started() {}
    func polled(caught: Bool) {}
    func mayEnd() -> Bool { true }
    func ended() {}
}
