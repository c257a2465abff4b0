import Foundation
import Logging
import Synchronization
import TrellisCore
import TrellisStore

/// Where the router's accounting goes: each request's usage is taken in
/// memory at once and written to the store in batches by a thread of its
/// own (every 200 ms, or at 512 waiting), so recording costs a request
/// microseconds, not a transaction. Budget checks read running totals kept
/// in memory, loaded from the store once per budget and period.
///
/// `stop` writes what waits; a process killed with `kill -9` loses at most
/// the last 200 ms of usage records (never a run's events).
final class UsageLedger: Sendable {
    private struct State {
        var pending: [ModelUsage] = []
        /// Per budget (by index): the period's start and what it has spent.
        var totals: [Int: (periodStart: Double, cost: Double, tokens: Int)] = [:]
        var stopped = false
    }

    private final class Shared: Sendable {
        let state = Mutex(State())
        let wake = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
    }

    private let shared = Shared()
    private let store: any ModelStore
    private let budgets: [RouterSettings.Budget]
    private let logger: Logger
    static let batch = 512

    init(store: any ModelStore, budgets: [RouterSettings.Budget], logger: Logger) {
        self.store = store
        self.budgets = budgets
        self.logger = logger
        let shared = shared
        let thread = Thread { [store, logger] in
            while true {
                _ = shared.wake.wait(timeout: .now() + .milliseconds(200))
                let (batch, stopped) = shared.state.withLock { state in
                    defer { state.pending = [] }
                    return (state.pending, state.stopped)
                }
                Self.write(batch, to: store, logger: logger)
                if stopped { break }
            }
            shared.finished.signal()
        }
        thread.name = "trellis-usage"
        thread.start()
    }

    deinit { stop() }

    func record(_ usage: ModelUsage) {
        let full = shared.state.withLock { state in
            state.pending.append(usage)
            for (index, budget) in budgets.enumerated() where Self.matches(budget.scope, usage) {
                guard let total = state.totals[index],
                      total.periodStart == ModelRouter.periodStart(budget.period, now: usage.at) else { continue }
                state.totals[index] = (total.periodStart, total.cost + usage.cost,
                                       total.tokens + usage.inputTokens + usage.outputTokens)
            }
            return state.pending.count >= Self.batch
        }
        if full { shared.wake.signal() }
    }

    /// What `budget` (the `index`th) has spent in its period at `now`.
    func spent(_ index: Int, now: Double) throws(StoreError) -> (cost: Double, tokens: Int) {
        let budget = budgets[index]
        let start = ModelRouter.periodStart(budget.period, now: now)
        if let total = shared.state.withLock({ $0.totals[index] }), total.periodStart == start {
            return (total.cost, total.tokens)
        }
        // First use in this period: what waits goes to the store first, then the store sums.
        flush()
        let total = try store.usageTotal(budget.scope, since: start)
        let spent = (cost: total.cost, tokens: total.inputTokens + total.outputTokens)
        shared.state.withLock { $0.totals[index] = (start, spent.cost, spent.tokens) }
        return spent
    }

    /// Writes what waits, now, on the calling thread.
    func flush() {
        let batch = shared.state.withLock { state in
            defer { state.pending = [] }
            return state.pending
        }
        Self.write(batch, to: store, logger: logger)
    }

    /// Writes what waits and ends the writer thread; idempotent.
    func stop() {
        let already = shared.state.withLock { state in
            defer { state.stopped = true }
            return state.stopped
        }
        guard !already else { return }
        shared.wake.signal()
        shared.finished.wait()
    }

    private static func write(_ batch: [ModelUsage], to store: any ModelStore, logger: Logger) {
        guard !batch.isEmpty else { return }
        do {
            try store.recordUsage(batch)
        } catch {
            logger.warning("model usage was not recorded", metadata: ["error": "\(error)", "records": "\(batch.count)"])
        }
    }

    static func matches(_ scope: ModelUsage.Scope, _ usage: ModelUsage) -> Bool {
        switch scope {
        case .all: true
        case .alias(let alias): usage.alias == alias
        case .deployment(let name): usage.deployment == name
        case .workflow(let workflow): usage.workflow == workflow
        case .run(let run): usage.runID == run
        }
    }
}
