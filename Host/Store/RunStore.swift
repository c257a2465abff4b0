import TrellisCore

/// Where runs live: an append-only event log per run, with the runs and
/// steps tables kept as projections of it, and each run's lease. The runner
/// depends on these protocols only (this one, ``RunLeases`` and
/// ``StepCache``), so another database can stand behind them; the embedded
/// one is ``SQLiteStore``, which is every store of the host in one file.
public protocol RunStore: RunLeases {
    /// Appends events to one or more runs in one transaction. Each append
    /// expects its run's stream to be at `expectedVersion`, and its run's
    /// lease to be held by the append's `owner` (or by nobody, when the
    /// append has none); if any is not, nothing is written and
    /// `StoreError.Code.conflict` or `.leaseLost` is thrown. An append that
    /// finishes or interrupts its run gives the lease up.
    func append(_ appends: [RunAppend]) throws(StoreError)

    /// The run's current state: its latest snapshot plus the events after it.
    func loadState(run: String) throws(StoreError) -> RunState?

    /// Every event of a run, in order.
    func events(run: String) throws(StoreError) -> [StoredEvent]

    /// The run's projected row.
    func runRecord(_ id: String) throws(StoreError) -> RunRecord?

    /// The most recent runs first, optionally only those with a status.
    func runRecords(limit: Int, status: RunStatus?) throws(StoreError) -> [RunRecord]

    /// The run's projected step rows, in the order they first started.
    func stepRecords(run: String) throws(StoreError) -> [StepState]

    /// Runs that are not finished (queued, running or interrupted).
    func unfinishedRuns() throws(StoreError) -> [String]

    /// Unfinished runs of one workflow (for the scheduler's overlap policy).
    func unfinishedRuns(workflow: String) throws(StoreError) -> [String]
}

/// Step outputs kept for `cache:` and for strategies that serve the last
/// good output.
public protocol StepCache: Sendable {
    /// A cached step output younger than `maxAge` seconds at `now`, and when it was stored.
    func cachedOutput(key: String, maxAge: Double, now: Double) throws(StoreError) -> CachedOutput?

    func storeCachedOutput(key: String, output: JSONValue, at time: Double) throws(StoreError)
}

/// When each trigger last fired, so missed fires can be caught up after a restart.
public protocol TriggerClock: Sendable {
    /// Unix seconds, or nil when it never fired.
    func lastFire(trigger key: String) throws(StoreError) -> Double?

    func setLastFire(trigger key: String, at time: Double) throws(StoreError)
}

/// Small values kept for other parts of the host (plugins' state), by namespace and key.
public protocol KeyValueStore: Sendable {
    func value(namespace: String, key: String) throws(StoreError) -> [UInt8]?

    func setValue(_ value: [UInt8], namespace: String, key: String) throws(StoreError)
}

/// A step output the store kept (for `cache:` and cache fallback).
public struct CachedOutput: Sendable, Equatable {
    public var output: JSONValue
    /// Unix seconds.
    public var storedAt: Double

    public init(output: JSONValue, storedAt: Double) {
        self.output = output
        self.storedAt = storedAt
    }
}

/// Events to append to one run, and the run's state after them (the
/// caller folds; the store writes the state's rows in the same transaction).
public struct RunAppend: Sendable {
    public var runID: String
    public var expectedVersion: Int64
    public var events: [RunEvent]
    /// Unix seconds the events happened at.
    public var time: Double
    /// The state after applying `events`.
    public var state: RunState
    /// The process appending, which must hold the run's lease; a new run
    /// (`expectedVersion` 0) is created with its lease held by it. Nil only
    /// for runs nobody executes yet (`trellis trigger` queues them).
    public var owner: LeaseOwner?

    public init(runID: String, expectedVersion: Int64, events: [RunEvent], time: Double, state: RunState,
                owner: LeaseOwner? = nil) {
        self.runID = runID
        self.expectedVersion = expectedVersion
        self.events = events
        self.time = time
        self.state = state
        self.owner = owner
    }
}

public struct StoredEvent: Sendable, Hashable {
    public var runID: String
    /// The event's position in its run's stream, from 1.
    public var version: Int64
    public var event: RunEvent
    public var time: Double
}

/// A run as listed.
public struct RunRecord: Sendable, Hashable {
    public var id: String
    public var workflow: String
    public var status: RunStatus
    public var trigger: String
    public var message: String?
    public var version: Int64
    public var createdAt: Double
    public var updatedAt: Double
}

public struct StoreError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public var description: String { name }
        public static let conflict = Code(name: "conflict")
        public static let corrupt = Code(name: "corrupt")
        public static let unavailable = Code(name: "unavailable")
        /// The appending process does not hold the run's lease (another does).
        public static let leaseLost = Code(name: "lease_lost")
    }

    public var code: Code
    public var message: String
    public var cause: (any Error)?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { message }
}
