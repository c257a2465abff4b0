import Foundation
import TrellisCore
import TrellisStore

extension ModelRouter {
    /// Refuses a request that would pass a hard budget, before it is sent:
    /// what has been spent in the budget's period, plus this request's
    /// estimate on the group's first deployment, against the limit.
    func checkBudgets(_ request: Request, group: ModelGroup, estimatedTokens: Int) throws(RouterError) {
        guard !settings.budgets.isEmpty, let ledger else { return }
        let now = clock.now()
        let deployment = group.deployments.first
        let maxOutput = request.body["max_tokens"]?.intValue ?? 0
        let estimatedCost = deployment?.cost(inputTokens: estimatedTokens, outputTokens: maxOutput) ?? 0
        for (index, budget) in settings.budgets.enumerated() {
            switch budget.scope {
            case .all: break
            case .alias(let alias): guard alias == request.model else { continue }
            case .deployment(let name): guard group.deployments.contains(where: { $0.name == name }) else { continue }
            case .workflow(let workflow): guard workflow == request.workflow else { continue }
            case .run(let run): guard run == request.runID else { continue }
            }
            let spent: (cost: Double, tokens: Int)
            do {
                spent = try ledger.spent(index, now: now)
            } catch {
                throw RouterError(.budget, "the budget at \(budget.place) cannot be checked: \(error)", errorClass: .retryable)
            }
            let period = budget.period == .total ? "in total" : "this \(budget.period.rawValue) (UTC)"
            if let limit = budget.maxCost, spent.cost + estimatedCost > limit {
                throw RouterError(
                    .budget, "the request would pass the budget of \(Self.money(limit)) \(period) for \(Self.describe(budget.scope)) "
                        + "(\(budget.place)): \(Self.money(spent.cost)) is spent, \(Self.money(max(0, limit - spent.cost))) is left, "
                        + "and this request is estimated at \(Self.money(estimatedCost))",
                    errorClass: .permanent)
            }
            if let limit = budget.maxTokens, spent.tokens + estimatedTokens + maxOutput > limit {
                throw RouterError(
                    .budget, "the request would pass the budget of \(limit) tokens \(period) for \(Self.describe(budget.scope)) "
                        + "(\(budget.place)): \(spent.tokens) are used, \(max(0, limit - spent.tokens)) are left, "
                        + "and this request is estimated at \(estimatedTokens + maxOutput)",
                    errorClass: .permanent)
            }
        }
    }

    /// Takes a request's usage into the ledger (written to the store in batches).
    func record(_ answer: RoutedAnswer, request: Request) {
        ledger?.record(ModelUsage(
            at: clock.now(), runID: request.runID, workflow: request.workflow, alias: request.model,
            deployment: answer.cacheHit ? "cache" : answer.deployment, inputTokens: answer.inputTokens,
            outputTokens: answer.outputTokens, cost: answer.cost, cacheHit: answer.cacheHit,
            latencyMilliseconds: answer.latencySeconds * 1000))
    }

    /// Writes the usage that waits to the store (a command calls it before it exits).
    public func flushUsage() { ledger?.flush() }

    /// Writes the usage that waits and stops the ledger's writer.
    public func stop() { ledger?.stop() }

    static func periodStart(_ period: RouterSettings.Budget.Period, now: Double) -> Double {
        guard period != .total else { return 0 }
        var seconds = time_t(now)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        parts.tm_hour = 0
        parts.tm_min = 0
        parts.tm_sec = 0
        if period == .month { parts.tm_mday = 1 }
        return Double(timegm(&parts))
    }

    /// An amount with up to six decimals, without trailing zeros: 0.00006, 12.5.
    public static func money(_ value: Double) -> String {
        var text = String(format: "%.6f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    static func describe(_ scope: ModelUsage.Scope) -> String {
        switch scope {
        case .all: "all requests"
        case .alias(let alias): "model group '\(alias)'"
        case .deployment(let name): "deployment '\(name)'"
        case .workflow(let workflow): "workflow '\(workflow)'"
        case .run(let run): "run \(run)"
        }
    }
}
