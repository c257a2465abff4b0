import Foundation
import Logging
import Synchronization
import TrellisCore
import TrellisStore

/// Starts runs when their workflows' triggers say so: cron in a time zone,
/// fixed intervals, one-time instants, and after another workflow finishes.
/// Missed fire times follow each trigger's catch-up policy; a run due while
/// the previous one is unfinished follows its overlap policy (and the
/// workflow's `max_active_runs`).
public final class Scheduler: Sendable {
    public struct Entry: Sendable {
        public var workflow: Workflow
        public var source: String
        public init(workflow: Workflow, source: String) {
            self.workflow = workflow
            self.source = source
        }
    }

    let engine: RunEngine
    let store: any RunStore & TriggerClock
    let logger: Logger
    let now: @Sendable () -> Double
    private let state = Mutex<State>(State())

    struct State {
        var entries: [String: Entry] = [:]
        /// Fires waiting for a run of the same workflow to finish (overlap: queue).
        var waiting: [String: [(trigger: String, inputs: [String: JSONValue])]] = [:]
    }

    public init(engine: RunEngine, store: any RunStore & TriggerClock, logger: Logger,
                now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.engine = engine
        self.store = store
        self.logger = logger
        self.now = now
        engine.observe { [weak self] _, event, run in
            if case .runFinished(let status, _) = event { self?.finished(workflow: run.workflow, status: status) }
        }
    }

    public func setWorkflows(_ entries: [Entry]) {
        state.withLock { state in
            state.entries = Dictionary(entries.map { ($0.workflow.name, $0) }, uniquingKeysWith: { _, last in last })
        }
    }

    public var workflowNames: [String] { state.withLock { $0.entries.keys.sorted() } }

    /// Starts every run due at the current time; returns their ids.
    @discardableResult
    public func tick() -> [String] {
        let time = now()
        var started: [String] = []
        for entry in state.withLock({ Array($0.entries.values) }) {
            for (index, trigger) in entry.workflow.triggers.enumerated() {
                let key = "\(entry.workflow.name)#\(index)"
                let last: Double?
                do {
                    last = try store.lastFire(trigger: key)
                } catch {
                    logger.error("trigger state unreadable", metadata: ["workflow": "\(entry.workflow.name)", "error": "\(error)"])
                    continue
                }
                let (fires, record) = TriggerPlanner.due(trigger, lastFire: last, now: time)
                if let record, record != last {
                    try? store.setLastFire(trigger: key, at: record)
                }
                for _ in fires {
                    if let id = fire(entry, trigger: label(trigger), inputs: trigger.inputs, overlap: trigger.overlap) {
                        started.append(id)
                    }
                }
            }
        }
        return started
    }

    /// The earliest time a time-based trigger fires next, for sleeping until then.
    public func nextWake() -> Double? {
        let time = now()
        return state.withLock { state in
            state.entries.values.flatMap { entry in entry.workflow.triggers.compactMap { TriggerPlanner.next($0, after: time) } }.min()
        }
    }

    /// Starts a run now, as `trellis trigger` asks (overlap: allow).
    public func trigger(workflow name: String, inputs: [String: JSONValue]) throws -> String? {
        guard let entry = state.withLock({ $0.entries[name] }) else { return nil }
        return fire(entry, trigger: "manual", inputs: inputs, overlap: .allow)
    }

    private func label(_ trigger: TriggerSpec) -> String {
        switch trigger.kind {
        case .cron(let expression, let zone): "cron \(expression) \(zone)"
        case .interval(let seconds): "interval \(seconds)s"
        case .once: "once"
        case .after(let workflow, let condition): "after \(workflow) (\(condition.rawValue))"
        case .manual: "manual"
        }
    }

    /// Starts a run unless the overlap policy or `max_active_runs` says to
    /// skip or wait.
    private func fire(_ entry: Entry, trigger: String, inputs: [String: JSONValue], overlap: TriggerSpec.Overlap) -> String? {
        let name = entry.workflow.name
        let active = (try? store.unfinishedRuns(workflow: name).count) ?? 0
        let overLimit = entry.workflow.maxActiveRuns.map { active >= $0 } ?? false
        if active > 0 && overlap == .skip {
            logger.info("run skipped: the previous one is still going", metadata: ["workflow": "\(name)", "trigger": "\(trigger)"])
            return nil
        }
        if overLimit || (active > 0 && overlap == .queue) {
            state.withLock { $0.waiting[name, default: []].append((trigger, inputs)) }
            logger.info("run queued behind the active one", metadata: ["workflow": "\(name)", "trigger": "\(trigger)"])
            return nil
        }
        do {
            let id = try engine.start(workflow: entry.workflow, source: entry.source, inputs: inputs, trigger: trigger)
            logger.info("run started", metadata: ["run.id": "\(id)", "workflow": "\(name)", "trigger": "\(trigger)"])
            return id
        } catch {
            logger.error("cannot start a run", metadata: ["workflow": "\(name)", "error": "\(error)"])
            return nil
        }
    }

    /// A run finished: start workflows that run after it, and a waiting fire.
    private func finished(workflow name: String, status: RunStatus) {
        let (entries, waiting) = state.withLock { state -> ([Entry], (Entry, String, [String: JSONValue])?) in
            var next: (Entry, String, [String: JSONValue])?
            if let entry = state.entries[name], var queue = state.waiting[name], !queue.isEmpty {
                let first = queue.removeFirst()
                state.waiting[name] = queue
                next = (entry, first.trigger, first.inputs)
            }
            return (Array(state.entries.values), next)
        }
        if let (entry, trigger, inputs) = waiting {
            _ = fire(entry, trigger: trigger, inputs: inputs, overlap: .allow)
        }
        for entry in entries {
            for trigger in entry.workflow.triggers {
                guard case .after(let upstream, let condition) = trigger.kind, upstream == name else { continue }
                let matches = condition == .any || (condition == .success && status == .succeeded)
                    || (condition == .failure && status != .succeeded)
                if matches { _ = fire(entry, trigger: label(trigger), inputs: trigger.inputs, overlap: trigger.overlap) }
            }
        }
    }
}
