import Foundation
import Logging
import Synchronization
import TrellisCore
import TrellisPluginHost
import TrellisStore

/// Executes workflow runs durably.
///
/// One engine thread owns the state of every active run. Each turn of its
/// loop it takes what happened (attempts that ended, timers that fired,
/// requests to start, cancel or drain), folds the resulting events into the
/// runs' states, commits all of them in **one** store transaction, and only
/// then hands newly started attempts to the worker pool, so every plugin call
/// is preceded by a durable `step_started`. A host killed at any instant
/// therefore resumes from the store without re-running a completed step.
public final class RunEngine: @unchecked Sendable {
    public typealias Observer = @Sendable (_ runID: String, _ event: RunEvent, _ state: RunState) -> Void

    let store: any RunStore
    let plugins: PluginManager?
    let configuration: RuntimeConfiguration
    let logger: Logger
    let pool: WorkerPool
    let invoker: StepInvoker
    let loader: WorkflowLoader
    let now: @Sendable () -> Double
    /// Recovery decisions by strategy and outcome (also reported as metrics).
    public let counters = RecoveryCounters()

    // Shared with other threads, under `condition`.
    let condition = NSCondition()
    var inbox: [Input] = []
    /// Inputs waiting in `inbox`, readable without the lock (for polling).
    let inboxCount = Atomic<Int>(0)
    var stopRequested = false
    private var thread: Thread?
    private let observers = Mutex<[Observer]>([])
    private let waiters = Mutex<[String: [CheckedContinuation<RunState, Never>]]>([:])
    /// Runs a drain interrupted (see `finished`).
    private let interruptedStates = Mutex<[String: RunState]>([:])
    /// Run states the engine holds for waiters (tests check it stays small).
    var keptRunStates: Int { interruptedStates.withLock { $0.count } }
    private let stopped = DispatchSemaphore(value: 0)

    // Owned by the engine thread.
    var runs: [String: ActiveRun] = [:]
    /// Runs held back by their workflow's `max_active_runs`, in arrival order.
    var heldRuns: [String: [ActiveRun]] = [:]
    /// Workflows whose runs finished in the last commit (slots to hand on).
    var releasedWorkflows: [String] = []
    var ready = ReadyQueue()
    var timers: [Timer] = []
    var inFlightTotal = 0
    var inFlightByPlugin: [String: Int] = [:]
    var busyKeys: Set<String> = []
    var draining: DrainState?
    /// Called after the commit that records a finished drain.
    var drainDone: (@Sendable () -> Void)?
    /// Calls given up on (timed out, or lost a hedge) that may still return.
    var abandoned: Set<String> = []
    var jobsToSubmit: [(runID: String, job: @Sendable () -> Void)] = []
    /// Whether each recovery strategy may serve a step's last good output
    /// (its manifest says `uses_last_good_output`), by plugin id.
    var servesLastGood: [String: Bool] = [:]

    enum Input {
        case add(ActiveRun)
        /// A call of an attempt returned (call 0 is the first; hedges follow).
        case completed(runID: String, step: String, attempt: Int, call: Int, outcome: StepOutcome)
        case cancel(runID: String, reason: String)
        case drain(graceSeconds: Double, done: @Sendable () -> Void)
    }

    struct Timer {
        enum Kind { case retry, admit(attempt: Int), timeout(attempt: Int), hedge(attempt: Int), drainDeadline }
        var due: Double
        var runID: String
        var step: String
        var kind: Kind

        /// Whether the timer serves `attempt` of a step while it runs.
        func watches(attempt: Int) -> Bool {
            switch kind {
            case .timeout(let watched), .hedge(let watched): watched == attempt
            case .retry, .admit, .drainDeadline: false
            }
        }
    }

    struct DrainState {
        var deadline: Double
        var done: @Sendable () -> Void
    }

    public init(store: any RunStore, plugins: PluginManager?, configuration: RuntimeConfiguration = RuntimeConfiguration(),
                catalog: any PluginCatalog = EmptyPluginCatalog(), notifications: NotificationService? = nil, logger: Logger,
                now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.store = store
        self.plugins = plugins
        self.configuration = configuration
        self.logger = logger
        self.now = now
        pool = WorkerPool(threads: configuration.maxConcurrentSteps)
        invoker = StepInvoker(plugins: { [plugins] id in plugins?.instance(id) }, allowExec: configuration.allowExec,
                              notifications: notifications)
        loader = WorkflowLoader(catalog: catalog, allowExec: configuration.allowExec)
        let thread = Thread { self.loop() }
        thread.name = "trellis-engine"
        self.thread = thread
        thread.start()
    }

    deinit { pool.shutdown() }

    /// The deployment's default recovery pipelines, given to steps that declare none.
    func withDefaults(_ workflow: Workflow) -> Workflow {
        workflow.withRecoveryDefaults(configuration.recoveryDefaults) { [plugins] uses in
            plugins?.instance(uses)?.info.kind.rawValue
        }
    }

    // MARK: - Public API (any thread)

    /// Adds an observer called after each event is committed, on the engine thread.
    public func observe(_ observer: @escaping Observer) {
        observers.withLock { $0.append(observer) }
    }

    /// Queues a new run of `workflow`; returns its id.
    public func start(workflow: Workflow, source: String, inputs: [String: JSONValue] = [:],
                      trigger: String = "manual", runID: String? = nil) throws(StoreError) -> String {
        let (state, queued) = try Self.enqueue(workflow: workflow, source: source, inputs: inputs, trigger: trigger,
                                               runID: runID, in: store, at: now())
        notify(state.id, [queued], state)
        send(.add(ActiveRun(state: state, workflow: withDefaults(workflow))))
        return state.id
    }

    /// Records a new queued run in the store without running it; a host's
    /// engine picks it up (`trellis trigger` uses this).
    @discardableResult
    public static func enqueue(workflow: Workflow, source: String, inputs: [String: JSONValue], trigger: String,
                               runID: String? = nil, in store: any RunStore,
                               at time: Double = Date().timeIntervalSince1970) throws(StoreError) -> (RunState, RunEvent) {
        var state = RunState(id: runID ?? RecordID.make("r"))
        let queued = RunEvent.runQueued(RunQueued(workflow: workflow.name, file: workflow.file, source: source,
                                                  inputs: inputs, trigger: trigger, steps: workflow.steps.map(\.id)))
        state.apply(queued, at: time)
        try store.append([RunAppend(runID: state.id, expectedVersion: 0, events: [queued], time: time, state: state)])
        return (state, queued)
    }

    /// Resumes a run that is not finished, from its stored state.
    public func resume(runID: String) throws -> Bool {
        guard let state = try store.loadState(run: runID), !state.status.isFinished else { return false }
        let result = loader.load(text: state.source, file: state.file)
        guard let workflow = result.workflow else {
            var failed = state
            let event = RunEvent.runFinished(status: .failed, message: "the run cannot resume: its workflow no longer validates: "
                                             + result.problems.map(\.description).joined(separator: "; "))
            failed.apply(event, at: now())
            try store.append([RunAppend(runID: runID, expectedVersion: state.version, events: [event], time: now(), state: failed)])
            notify(runID, [event], failed)
            finished(runID, failed)
            return false
        }
        send(.add(ActiveRun(state: state, workflow: withDefaults(workflow))))
        return true
    }

    /// Resumes every unfinished run in the store; returns their ids.
    public func resumeUnfinished() throws -> [String] {
        try store.unfinishedRuns().filter { try resume(runID: $0) }
    }

    /// Asks a run to stop: in-flight calls see cancellation, nothing new starts.
    public func cancel(runID: String, reason: String = "cancelled by request") {
        send(.cancel(runID: runID, reason: reason))
    }

    /// Waits until the run finishes (or is interrupted by a drain). A run
    /// that already finished, here or in an earlier process, returns at once.
    public func wait(for runID: String) async -> RunState {
        if let stored = finishedInStore(runID) { return stored }
        return await withCheckedContinuation { continuation in
            waiters.withLock { $0[runID, default: []].append(continuation) }
            // It may have ended between the first look and the waiter's
            // registration: look again, now that `finished` will find it.
            if let done = interruptedStates.withLock({ $0[runID] }) ?? finishedInStore(runID) { resumeWaiters(runID, done) }
        }
    }

    /// The run's state if the store has it finished (its row says so first,
    /// so an unfinished run's state is not loaded).
    private func finishedInStore(_ runID: String) -> RunState? {
        guard (try? store.runRecord(runID))?.status.isFinished == true, let stored = try? store.loadState(run: runID),
              stored.status.isFinished else { return nil }
        return stored
    }

    /// Stops starting steps; gives in-flight ones `graceSeconds`, then records
    /// them and their runs as interrupted (they resume on the next start).
    public func drain(graceSeconds: Double? = nil) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            beginDrain(graceSeconds: graceSeconds) { continuation.resume() }
        }
    }

    /// Starts a drain without waiting; `done` runs once it is recorded.
    /// Safe to call from any thread, observers included (signal handlers use it).
    public func beginDrain(graceSeconds: Double? = nil, done: @escaping @Sendable () -> Void = {}) {
        send(.drain(graceSeconds: graceSeconds ?? configuration.drainGraceSeconds, done: done))
    }

    /// Stops the engine thread (after a drain, or when nothing runs).
    public func shutdown() {
        condition.lock()
        stopRequested = true
        condition.signal()
        condition.unlock()
        stopped.wait()
        pool.shutdown()
    }

    func send(_ input: Input) {
        condition.lock()
        inbox.append(input)
        inboxCount.store(inbox.count, ordering: .releasing)
        condition.signal()
        condition.unlock()
    }

    func notify(_ runID: String, _ events: [RunEvent], _ state: RunState) {
        let current = observers.withLock { $0 }
        guard !current.isEmpty else { return }
        for event in events { for observer in current { observer(runID, event, state) } }
    }

    /// A run ended (it is committed). A finished run's state is then in the
    /// store, where a late waiter finds it; the engine keeps no copy, or a
    /// long-lived host would hold every run it ever ran. Only an interrupted
    /// run's state is kept: in the store it looks like one about to resume.
    func finished(_ runID: String, _ state: RunState) {
        if !state.status.isFinished { interruptedStates.withLock { $0[runID] = state } }
        resumeWaiters(runID, state)
    }

    private func resumeWaiters(_ runID: String, _ state: RunState) {
        let pending = waiters.withLock { $0.removeValue(forKey: runID) ?? [] }
        for continuation in pending { continuation.resume(returning: state) }
    }

    // MARK: - The engine loop

    private func loop() {
        // Calls in flight may answer within microseconds: poll for them
        // before parking, for as long as that keeps paying (see PollingPolicy).
        var polling = PollingPolicy(microseconds: 50)
        var polled = false
        while true {
            condition.lock()
            while inbox.isEmpty && !stopRequested {
                if !polled && inFlightTotal > 0 && polling.shouldPoll() {
                    polled = true
                    condition.unlock()
                    let caught = spin(forMicroseconds: polling.microseconds) { inboxCount.load(ordering: .acquiring) > 0 }
                    polling.polled(caughtWork: caught)
                    condition.lock()
                    continue
                }
                if let due = timers.lazy.map(\.due).min() {
                    let wait = due - now()
                    if wait <= 0 { break }
                    if !condition.wait(until: Date(timeIntervalSinceNow: wait)) { break }
                } else {
                    condition.wait()
                }
            }
            let inputs = inbox
            inbox.removeAll(keepingCapacity: true)
            inboxCount.store(0, ordering: .releasing)
            polled = false
            let stop = stopRequested
            condition.unlock()
            if stop && inputs.isEmpty {
                thread = nil
                stopped.signal()
                return
            }
            turn(inputs)
        }
    }
}
