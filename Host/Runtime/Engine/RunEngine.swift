import Foundation
import Logging
import Synchronization
import TrellisCore
import TrellisPluginHost
import TrellisSearch
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

    public let store: any RunStore & StepCache
    let plugins: PluginManager?
    let configuration: RuntimeConfiguration
    let logger: Logger
    let pool: WorkerPool
    let invoker: StepInvoker
    /// The model router `uses: ai` steps ask (nil: the host has none).
    public let router: ModelRouter?
    let loader: WorkflowLoader
    let now: @Sendable () -> Double
    /// This process, as the holder of the leases of the runs it executes.
    public let owner: LeaseOwner
    /// The runner's metrics, touched on the engine thread.
    let metrics = EngineMetrics()
    /// Recovery decisions by strategy and outcome (also reported as metrics).
    public let counters = RecoveryCounters()

    /// The engine thread, which owns everything below "Owned by the engine thread".
    var loop: OwnerLoop<RunEngine>!
    private let observers = Mutex<[Observer]>([])
    private let waiters = Mutex<[String: [CheckedContinuation<RunEnd, Never>]]>([:])
    /// Runs a drain interrupted, or this engine stopped executing (see `finished`).
    private let unfinishedEnds = Mutex<[String: RunEnd]>([:])
    /// Run states the engine holds for waiters (tests check it stays small).
    var keptRunStates: Int { unfinishedEnds.withLock { $0.count } }
    // Owned by the engine thread.
    /// Calls in flight may answer within microseconds: the loop polls for
    /// them before parking, for as long as that keeps paying.
    var polling = PollingPolicy(microseconds: 50)
    var polledSinceTurn = false
    /// Strategies whose admission once took longer than `admitBound`: the
    /// attempts they admit are asked on worker threads from then on.
    var slowAdmitters: Set<String> = []
    /// How long a strategy may take to admit an attempt on the engine thread.
    let admitBound = 0.002
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
        /// A run to execute, and events already committed for it that
        /// observers have not heard of (a new run's `run_queued`).
        case add(ActiveRun, committed: [RunEvent])
        /// A call of an attempt returned (call 0 is the first; hedges follow).
        case completed(runID: String, step: String, attempt: Int, call: Int, outcome: StepOutcome)
        case cancel(runID: String, reason: String)
        case drain(graceSeconds: Double, done: @Sendable () -> Void)
        /// A step's recovery pipeline decided, on a worker thread, about a
        /// failed attempt (`index`: the strategy that decided).
        case decided(runID: String, step: String, attempt: Int, verdict: RecoveryPipeline.Verdict, index: Int)
        /// A worker asked a slow strategy's pipeline whether an attempt may start.
        case admitted(runID: String, step: String, attempt: Int, RecoveryPipeline.Admission, [RecoveryPipeline.StrategyFailure])
        /// Strategies failed to take an attempt's outcome: recorded on the run.
        case strategyFailures(runID: String, step: String, attempt: Int, [RecoveryPipeline.StrategyFailure])
        /// The heartbeat renewed this process's leases; runs it executes
        /// that were leased before `startedAt` and are not among them were
        /// taken over by another process.
        case renewed(LeaseRenewal, startedAt: Double)
    }

    struct Timer {
        enum Kind {
            case retry, admit(attempt: Int), timeout(attempt: Int), hedge(attempt: Int), drainDeadline
            /// A `sleep` step's call ends (it holds no worker thread meanwhile).
            case sleep(attempt: Int, call: Int, outcome: StepOutcome)
        }
        var due: Double
        var runID: String
        var step: String
        var kind: Kind

        /// Whether the timer serves `attempt` of a step while it runs.
        func watches(attempt: Int) -> Bool {
            switch kind {
            case .timeout(let watched), .hedge(let watched), .sleep(let watched, _, _): watched == attempt
            case .retry, .admit, .drainDeadline: false
            }
        }
    }

    struct DrainState {
        var deadline: Double
        var done: @Sendable () -> Void
    }

    public init(store: any RunStore & StepCache, plugins: PluginManager?, configuration: RuntimeConfiguration = RuntimeConfiguration(),
                catalog: any PluginCatalog = EmptyPluginCatalog(), notifications: NotificationService? = nil,
                router: ModelRouter? = nil, search: SearchEngine? = nil, logger: Logger,
                now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.store = store
        self.plugins = plugins
        self.configuration = configuration
        self.logger = logger
        self.now = now
        owner = LeaseOwner.current(leaseSeconds: configuration.leaseSeconds)
        pool = WorkerPool(threads: configuration.maxConcurrentSteps)
        self.router = router
        invoker = StepInvoker(plugins: { [plugins] id in plugins?.instance(id) }, allowExec: configuration.allowExec,
                              notifications: notifications, router: router, search: search)
        loader = WorkflowLoader(catalog: catalog, allowExec: configuration.allowExec)
        loop = OwnerLoop(name: "trellis-engine", handler: self)
        // Only now: its first turn may come at once, and touches `loop`.
        loop.start()
    }

    deinit { pool.shutdown() }

    /// The loaded plugin with an id (for the recovery pipelines, from any thread).
    var pluginLookup: @Sendable (String) -> PluginInstance? {
        { [plugins] id in plugins?.instance(id) }
    }

    /// The deployment's default recovery pipelines, given to steps that declare none.
    func withDefaults(_ workflow: Workflow) -> Workflow {
        workflow.withRecoveryDefaults(configuration.recoveryDefaults) { [plugins] uses in
            plugins?.instance(uses)?.info.kind.rawValue
        }
    }

    // MARK: - Public API (any thread)

    /// Adds an observer called after each event is committed, on the engine
    /// thread (a run that cannot resume, failed by `resume`, is told on
    /// the caller's).
    public func observe(_ observer: @escaping Observer) {
        observers.withLock { $0.append(observer) }
    }

    /// Queues a new run of `workflow` and executes it (holding its lease); returns its id.
    public func start(workflow: Workflow, source: String, inputs: [String: JSONValue] = [:],
                      trigger: String = "manual", runID: String? = nil) throws(StoreError) -> String {
        let (state, queued) = try Self.enqueue(workflow: workflow, source: source, inputs: inputs, trigger: trigger,
                                               runID: runID, in: store, owner: owner, at: now())
        send(.add(ActiveRun(state: state, workflow: withDefaults(workflow), leasedAt: now(), plugins: pluginLookup), committed: [queued]))
        return state.id
    }

    /// Records a new queued run in the store. Without an `owner` nobody
    /// executes it yet: a host claims it (`trellis trigger` uses this).
    @discardableResult
    public static func enqueue(workflow: Workflow, source: String, inputs: [String: JSONValue], trigger: String,
                               runID: String? = nil, in store: any RunStore, owner: LeaseOwner? = nil,
                               at time: Double = Date().timeIntervalSince1970) throws(StoreError) -> (RunState, RunEvent) {
        var state = RunState(id: runID ?? RecordID.make("r"))
        let queued = RunEvent.runQueued(RunQueued(workflow: workflow.name, file: workflow.file, source: source,
                                                  inputs: inputs, trigger: trigger, steps: workflow.steps.map(\.id))).redacted()
        state.apply(queued, at: time)
        try store.append([RunAppend(runID: state.id, expectedVersion: 0, events: [queued], time: time, state: state, owner: owner)])
        return (state, queued)
    }

    /// Resumes a run that is not finished, from its stored state, once this
    /// process holds its lease. Returns false when there is nothing to run
    /// (no such run, or it is finished); throws `RunHeldElsewhere` when
    /// another live process executes it.
    public func resume(runID: String) throws -> Bool {
        switch try store.acquireLease(run: runID, owner: owner, now: now()) {
        case .missing, .finished: return false
        case .held(let holder): throw RunHeldElsewhere(runID: runID, holder: holder)
        case .acquired: return try resumeLeased(runID)
        }
    }

    /// Takes over every unfinished run in the store that no live process
    /// holds (up to `limit`); returns the ids it resumed.
    public func resumeUnfinished(limit: Int = .max) throws -> [String] {
        try store.claimUnfinishedRuns(owner: owner, limit: limit, now: now()).filter { runID in
            do {
                return try resumeLeased(runID)
            } catch let error as RunCannotResumeHere {
                logger.warning("a run cannot resume in this deployment; it was left as it was",
                               metadata: ["run.id": "\(runID)", "problems": "\(error.problems.joined(separator: "; "))"])
                return false
            }
        }
    }

    /// Resumes a run whose lease this process has just taken.
    private func resumeLeased(_ runID: String) throws -> Bool {
        let leasedAt = now()
        guard let state = try store.loadState(run: runID), !state.status.isFinished else {
            try? store.releaseLease(run: runID, owner: owner)
            return false
        }
        let result = loader.load(text: state.source, file: state.file)
        guard let workflow = result.workflow else {
            // Sound in itself, so what is missing is this deployment's to give:
            // leave the run for a host (or a config) that has it.
            if WorkflowLoader(catalog: PermissiveCatalog(), allowExec: true).load(text: state.source, file: state.file).workflow != nil {
                try? store.releaseLease(run: runID, owner: owner)
                throw RunCannotResumeHere(runID: runID, problems: result.problems.map(\.description))
            }
            var failed = state
            let event = RunEvent.runFinished(status: .failed, message: "the run cannot resume: its workflow no longer validates: "
                                             + result.problems.map(\.description).joined(separator: "; ")).redacted()
            failed.apply(event, at: now())
            try store.append([RunAppend(runID: runID, expectedVersion: state.version, events: [event], time: now(), state: failed,
                                        owner: owner)])
            notify(runID, [event], failed)
            finished(runID, failed)
            return false
        }
        send(.add(ActiveRun(state: state, workflow: withDefaults(workflow), leasedAt: leasedAt, plugins: pluginLookup), committed: []))
        return true
    }

    /// Renews the leases of the runs this process executes (the lease
    /// heartbeat calls it); a run whose lease another process took is
    /// dropped without appending anything more to it.
    public func renewLeases() {
        let started = now()
        do {
            let renewal = try store.renewLeases(owner: owner, now: started)
            send(.renewed(renewal, startedAt: started))
        } catch {
            logger.warning("run leases not renewed; they expire unless a later renewal succeeds",
                           metadata: ["error": "\(error)", "lease.owner": "\(owner.id)"])
        }
    }

    /// Asks a run to stop: in-flight calls see cancellation, nothing new starts.
    public func cancel(runID: String, reason: String = "cancelled by request") {
        send(.cancel(runID: runID, reason: reason))
    }

    /// Waits until the run finishes, is interrupted by a drain, or stops
    /// being this engine's to execute. A run that already finished, here or
    /// in another process, returns at once.
    public func end(of runID: String) async -> RunEnd {
        if let stored = finishedInStore(runID) { return .finished(stored) }
        return await withCheckedContinuation { continuation in
            waiters.withLock { $0[runID, default: []].append(continuation) }
            // It may have ended between the first look and the waiter's
            // registration: look again, now that `finished` will find it.
            if let end = unfinishedEnds.withLock({ $0[runID] }) ?? finishedInStore(runID).map(RunEnd.finished) {
                resumeWaiters(runID, end)
            }
        }
    }

    /// The run's state when `end(of:)` returns (a run taken over by another
    /// process: its state as stored).
    public func wait(for runID: String) async -> RunState {
        switch await end(of: runID) {
        case .finished(let state), .interrupted(let state): return state
        case .lost: return ((try? store.loadState(run: runID)) ?? nil) ?? RunState(id: runID)
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
        loop.stop()
        pool.shutdown()
        // Runs still held (queued behind `max_active_runs`, or not finished)
        // are free for another host. (The loop has ended: its state may be read.)
        if !runs.isEmpty || heldRuns.values.contains(where: { !$0.isEmpty }) { try? store.releaseLeases(owner: owner) }
    }

    func send(_ input: Input) {
        loop.send(input)
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
        let end: RunEnd = state.status.isFinished ? .finished(state) : .interrupted(state)
        if !state.status.isFinished { unfinishedEnds.withLock { $0[runID] = end } }
        resumeWaiters(runID, end)
    }

    /// The engine stopped executing a run it did not finish (another
    /// process took it over, or its events could not be recorded).
    func stoppedExecuting(_ runID: String, reason: String) {
        let end = RunEnd.lost(runID: runID, reason: reason)
        unfinishedEnds.withLock { $0[runID] = end }
        resumeWaiters(runID, end)
    }

    private func resumeWaiters(_ runID: String, _ end: RunEnd) {
        let pending = waiters.withLock { $0.removeValue(forKey: runID) ?? [] }
        for continuation in pending { continuation.resume(returning: end) }
    }

    // MARK: - The engine loop

    func park(stopping: Bool) -> OwnerLoop<RunEngine>.Park {
        if !polledSinceTurn && inFlightTotal > 0 && polling.shouldPoll() {
            polledSinceTurn = true
            return .poll(microseconds: polling.microseconds)
        }
        if let due = timers.lazy.map(\.due).min() { return .wait(seconds: due - now()) }
        return .wait(seconds: nil)
    }

    func polled(caught: Bool) {
        polling.polled(caughtWork: caught)
    }
}

extension RunEngine: OwnerLoopHandler {}
