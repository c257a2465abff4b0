import TrellisCore

/// What the model router keeps across restarts: cached answers and the
/// usage of every request (tokens, cost), which budgets are checked against.
public protocol ModelStore: Sendable {
    /// Cached answers, newest first, stored after `since` (Unix seconds).
    func cachedAnswers(since: Double) throws(StoreError) -> [CachedAnswer]

    /// Keeps `answer` under its key, replacing an older one.
    func storeAnswer(_ answer: CachedAnswer) throws(StoreError)

    /// Forgets the answers under `keys` (evicted or expired).
    func deleteAnswers(keys: [String]) throws(StoreError)

    /// Records requests' usage, in one transaction.
    func recordUsage(_ usage: [ModelUsage]) throws(StoreError)

    /// Usage summed by `grouping`, for requests at or after `since`.
    func usageTotals(by grouping: ModelUsage.Grouping, since: Double) throws(StoreError) -> [ModelUsageTotal]

    /// The summed usage of requests at or after `since` that match `scope`.
    func usageTotal(_ scope: ModelUsage.Scope, since: Double) throws(StoreError) -> ModelUsageTotal

    /// Deployments' cooldowns (by `plugin/model`), so another process (a
    /// restart, `trellis ai models`) sees them.
    func cooldowns() throws(StoreError) -> [String: ModelCooldown]

    func setCooldown(_ cooldown: ModelCooldown, deployment: String) throws(StoreError)
}

public struct ModelCooldown: Sendable, Equatable {
    /// Unix seconds.
    public var until: Double
    public var reason: String

    public init(until: Double, reason: String) {
        self.until = until
        self.reason = reason
    }
}

/// One cached answer: the request's key and the answer's JSON.
public struct CachedAnswer: Sendable, Equatable {
    public var key: String
    public var answer: [UInt8]
    /// Unix seconds.
    public var storedAt: Double

    public init(key: String, answer: [UInt8], storedAt: Double) {
        self.key = key
        self.answer = answer
        self.storedAt = storedAt
    }
}

/// One routed request's usage.
public struct ModelUsage: Sendable, Equatable {
    /// Unix seconds.
    public var at: Double
    public var runID: String?
    public var workflow: String?
    public var alias: String
    public var deployment: String
    public var inputTokens: Int
    public var outputTokens: Int
    /// In the deployment's price unit (US dollars in the docs' examples).
    public var cost: Double
    public var cacheHit: Bool
    public var latencyMilliseconds: Double

    public init(at: Double, runID: String?, workflow: String?, alias: String, deployment: String, inputTokens: Int,
                outputTokens: Int, cost: Double, cacheHit: Bool, latencyMilliseconds: Double) {
        self.at = at
        self.runID = runID
        self.workflow = workflow
        self.alias = alias
        self.deployment = deployment
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cost = cost
        self.cacheHit = cacheHit
        self.latencyMilliseconds = latencyMilliseconds
    }

    /// What totals are summed by.
    public enum Grouping: String, Sendable, CaseIterable {
        case alias, deployment, workflow, run
        /// A UTC day, YYYY-MM-DD.
        case day
        /// A UTC month, YYYY-MM.
        case month
    }

    /// Which requests a total covers.
    public enum Scope: Sendable, Hashable {
        case all
        case alias(String)
        case deployment(String)
        case workflow(String)
        case run(String)
    }
}

public struct ModelUsageTotal: Sendable, Equatable {
    /// The alias, deployment, workflow, run, day or month summed over.
    public var key: String
    public var requests: Int
    public var inputTokens: Int
    public var outputTokens: Int
    public var cost: Double
    public var cacheHits: Int

    public init(key: String, requests: Int, inputTokens: Int, outputTokens: Int, cost: Double, cacheHits: Int) {
        self.key = key
        self.requests = requests
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cost = cost
        self.cacheHits = cacheHits
    }
}
