import Foundation
import Logging
import TrellisCore
import TrellisPluginHost
import TrellisStore

/// A request to notify recipients with a template.
public struct NotificationRequest: Sendable {
    public var recipients: [String]
    public var template: String
    public var variables: JSONValue
    public var priority: NotificationPriority
    /// Messages with the same key to the same recipient within the window
    /// become one.
    public var digestKey: String?
    public var digestWindowSeconds: Double?
    /// Who asked (`cli`, `<run>/<step>`).
    public var source: String
    /// When given, the messages' ids derive from it, and a request repeated
    /// with the same key (a step run again after a crash) queues nothing new.
    public var key: String?

    public init(recipients: [String], template: String, variables: JSONValue = .object([:]),
                priority: NotificationPriority = .normal, digestKey: String? = nil, digestWindowSeconds: Double? = nil,
                source: String = "cli", key: String? = nil) {
        self.recipients = recipients
        self.template = template
        self.variables = variables
        self.priority = priority
        self.digestKey = digestKey
        self.digestWindowSeconds = digestWindowSeconds
        self.source = source
        self.key = key
    }
}

public struct NotificationError: Error, Sendable, CustomStringConvertible {
    public var problems: [String]
    public init(problems: [String]) { self.problems = problems }
    public var description: String { problems.joined(separator: "\n") }
}

/// Delivers templated messages to recipients through channel plugins, with
/// their preferences, quiet hours, per-channel rate limits, priorities,
/// digests, retries through the recovery pipeline and failover, and keeps
/// every delivery's state in the store.
///
/// One dispatcher thread owns the queue. Each turn it takes new messages and
/// finished deliveries, decides what is due, records the turn's changes in
/// one store transaction, and then hands the deliveries it claimed to worker
/// threads (channel calls never run on Swift's cooperative pool).
public final class NotificationService: @unchecked Sendable {
    /// `owner`: this process delivers everything in the store, including
    /// what waits (quiet hours, digests, retries) and what other processes
    /// queue (`trellis serve`). `transient`: it delivers only what it queued
    /// and is due now, and leaves the rest in the store (`trellis notify`).
    public enum Mode: Sendable { case owner, transient }

    public typealias Observer = @Sendable (DeliveryRecord) -> Void

    let settings: NotificationSettings
    let store: any NotificationStore
    let plugins: PluginManager?
    /// The pipeline failed deliveries go through.
    public let recovery: [RecoveryEntry]
    /// The same pipeline type as a workflow step's: admission on the
    /// dispatcher, decisions and outcomes on the worker that made the call.
    let pipeline: RecoveryPipeline
    let mode: Mode
    let logger: Logger
    let now: @Sendable () -> Double
    let pool: WorkerPool

    /// The dispatcher thread, which owns everything below "Owned by the dispatcher thread".
    var loop: OwnerLoop<NotificationService>!
    /// Under the loop's lock.
    var observers: [Observer] = []

    // Owned by the dispatcher thread.
    var waiting = DeliveryQueue()
    /// Due deliveries, one line per priority (index: the priority's rank).
    var ready = Array(repeating: ReadyLine(), count: NotificationPriority.allCases.count)
    var buckets: [String: TokenBucket] = [:]
    /// Open digests by id.
    var digests: [String: NotificationRecord] = [:]
    /// Messages not yet finished that this process is delivering.
    var records: [String: NotificationRecord] = [:]
    var inFlight: [String: (delivery: DeliveryRecord, started: Double)] = [:]
    /// Ids of unfinished messages and deliveries this process has taken in.
    var known: Set<String> = []
    var lastPoll: Double = 0
    /// Changes of records already in the store, and deliveries made this
    /// turn (a digest closing, a failover), for the turn's transaction.
    var dirtyNotifications: [String: NotificationRecord] = [:]
    var dirtyDeliveries: [String: DeliveryRecord] = [:]
    var newDeliveries: [String: DeliveryRecord] = [:]
    var toSend: [DeliveryRecord] = []
    /// Deliveries queued by `send`, for the observers.
    var announced: [DeliveryRecord] = []

    enum Input {
        case queue([NotificationRecord], [DeliveryRecord])
        /// A call ended; for a failure, what the pipeline decided (nil: nothing to decide, a config error).
        case completed(String, Result<JSONValue, PluginCallError>, RecoveryPipeline.Verdict?)
    }

    public init(settings: NotificationSettings, store: any NotificationStore, plugins: PluginManager?,
                recoveryDefaults: [RecoveryEntry] = [], mode: Mode = .owner, logger: Logger,
                now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.settings = settings
        self.store = store
        self.plugins = plugins
        recovery = settings.recovery ?? recoveryDefaults
        pipeline = RecoveryPipeline(recovery, plugins: { [plugins] id in plugins?.instance(id) })
        self.mode = mode
        self.logger = logger
        self.now = now
        pool = WorkerPool(threads: settings.workers, name: "trellis-notify")
        loop = OwnerLoop(name: "trellis-notifications", handler: self)
        // Only now: its first turn may come at once, and touches `loop`.
        loop.start()
    }

    deinit { pool.shutdown() }

    /// Problems with the recipients' channels: one not enabled, or not a channel.
    public func routeProblems() -> [String] {
        settings.recipients.values.sorted { $0.id < $1.id }.flatMap { recipient in
            recipient.channels.compactMap { route -> String? in
                guard let plugins else { return nil }
                guard let instance = plugins.instance(route.channel) else {
                    return "recipient \(recipient.id): channel \(route.channel) is not loaded (enable it under plugins:)"
                }
                return instance.info.kind == .channel ? nil
                    : "recipient \(recipient.id): \(route.channel) is a \(instance.info.kind) plugin, not a channel"
            }
        }
    }

    /// What is wrong with a request before anything is queued: unknown
    /// recipients or template, and variables the template needs but the
    /// request lacks. `opaque` names are given but known only at run time.
    public static func problems(in request: NotificationRequest, settings: NotificationSettings,
                                opaque: Set<String> = []) -> [String] {
        checks(request, settings: settings, opaque: opaque).map(\.message)
    }

    /// The problems with the field of a notify step's `with:` each is about
    /// (`/to`, `/template`, `/vars`).
    static func checks(_ request: NotificationRequest, settings: NotificationSettings,
                       opaque: Set<String>) -> [(field: String, message: String)] {
        var problems: [(field: String, message: String)] = []
        for recipient in request.recipients where settings.recipients[recipient] == nil {
            problems.append(("/to", "unknown recipient '\(recipient)'" + suggestion(recipient, among: Array(settings.recipients.keys))))
        }
        if request.recipients.isEmpty { problems.append(("/to", "no recipients")) }
        guard let template = settings.templates[request.template] else {
            problems.append(("/template", "unknown template '\(request.template)'"
                             + suggestion(request.template, among: Array(settings.templates.keys))))
            return problems
        }
        problems += template.missingVariables(request.variables, opaque: opaque).map {
            ("/vars", "template \(request.template)\($0.pointer.isEmpty ? "" : " at \($0.pointer)"): \($0.message)")
        }
        return problems
    }

    static func suggestion(_ name: String, among names: [String]) -> String {
        guard !names.isEmpty else { return " (none are configured under notifications:)" }
        return " (known: \(names.sorted().joined(separator: ", ")))"
    }

    /// Queues a request: one message per recipient. Returns their ids.
    /// Throws, queuing nothing, when the request is not valid.
    @discardableResult
    public func send(_ request: NotificationRequest) throws -> [String] {
        try send([request])[0]
    }

    /// Queues several requests in one store transaction; their ids, in order.
    public func send(_ requests: [NotificationRequest]) throws -> [[String]] {
        let time = now()
        var notifications: [NotificationRecord] = []
        var deliveries: [DeliveryRecord] = []
        var ids: [[String]] = []
        for request in requests {
            let problems = Self.problems(in: request, settings: settings)
            guard problems.isEmpty, let template = settings.templates[request.template] else {
                throw NotificationError(problems: problems)
            }
            var requestIDs: [String] = []
            for name in request.recipients {
                guard let recipient = settings.recipients[name] else { continue }
                let id = request.key.map { "\($0)/\(name)" } ?? RecordID.make("n")
                requestIDs.append(id)
                if request.key != nil, try store.notification(id) != nil { continue }
                var record = NotificationRecord(
                    id: id, recipient: name, template: request.template, category: template.category,
                    priority: request.priority, variables: request.variables, digestKey: request.digestKey, state: .queued,
                    source: request.source, createdAt: time, updatedAt: time)
                if let category = template.category, recipient.optOut.contains(category) {
                    record.state = .skipped
                    record.reason = "\(name) opted out of \(category)"
                } else if request.digestKey != nil {
                    record.state = .digesting
                    record.releaseAt = time + (request.digestWindowSeconds ?? settings.digestWindowSeconds)
                } else if let delivery = try delivery(for: &record, from: 0, at: time, checked: true) {
                    deliveries.append(delivery)
                }
                notifications.append(record)
            }
            ids.append(requestIDs)
        }
        _ = try store.save(NotificationChanges(newNotifications: notifications, newDeliveries: deliveries))
        send(.queue(notifications, deliveries))
        return ids
    }

    /// Adds an observer called on the dispatcher thread after each change
    /// of a delivery's state is recorded.
    public func observe(_ observer: @escaping Observer) {
        loop.withLock { observers.append(observer) }
    }

    /// Looks at the queue again now (after a test moves its clock).
    public func poke() {
        loop.wake()
    }

    /// Stops after the deliveries in flight end; what waits stays in the store.
    public func stop() {
        loop.stop()
    }

    /// Waits until nothing due is left in this process, then stops; what
    /// waits for later stays queued in the store.
    public func finish() {
        loop.waitUntil { inboxEmpty in idle && inboxEmpty }
        stop()
    }

    /// Waits until the loop has looked at everything due at the service's
    /// current time and parked with nothing in flight or ready to send. What
    /// waits for a later time stays waiting: on a clock a test moves by
    /// hand, this is how "nothing more happens yet" is checked.
    public func waitUntilQuiet() {
        var target = 0
        loop.waitUntil({ inboxEmpty in parks >= target && quiet && inboxEmpty }, before: { target = parks + 1 })
    }

    // Under the loop's lock (set when the loop parks, read by `finish` and `waitUntilQuiet`).
    /// Nothing queued, due or in flight in this process.
    var idle = false
    /// How often the loop has parked, and whether it last parked with
    /// nothing due, ready or in flight.
    var parks = 0
    var quiet = false

    func send(_ input: Input) {
        loop.send(input) { idle = false }
    }

    /// A channel call ended. The dispatcher is woken when it has work soon:
    /// the workers' queue is down to three rounds, outcomes for a batch are
    /// waiting, or it is stopping; otherwise the outcome waits (at most
    /// `recordDelay`) to be recorded with others.
    func finished(_ id: String, _ result: Result<JSONValue, PluginCallError>, _ verdict: RecoveryPipeline.Verdict?) {
        let low = pool.waitingJobs <= settings.workers * 3
        let batch = settings.workers * 2
        loop.send(.completed(id, result, verdict), wakeWhen: { queued, stopping in low || queued >= batch || stopping },
                  locked: { idle = false })
    }

    /// How long a finished delivery may wait for others to be recorded with.
    static let recordDelay = 0.002
}

extension NotificationService: OwnerLoopHandler {
    func started() {
        if mode == .owner { adoptFromStore() }
    }

    func park(stopping: Bool) -> OwnerLoop<NotificationService>.Park {
        idle = inFlight.isEmpty && readyCount == 0 && (mode == .transient || (waiting.isEmpty && digests.isEmpty))
        let wake = nextWake(stopping: stopping)
        quiet = inFlight.isEmpty && readyCount == 0 && wake > now()
        parks += 1
        return .wait(seconds: min(wake - now(), mode == .owner ? 1 : 60, inFlight.isEmpty ? .infinity : Self.recordDelay))
    }

    func mayEnd() -> Bool { inFlight.isEmpty }

    func ended() { pool.shutdown() }
}
