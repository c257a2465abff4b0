import Foundation
import Logging
import Metrics
import TrellisCore
import TrellisPluginHost
import TrellisStore

/// The model router: a request names an alias (a model group from the
/// deployment config) or a provider plugin, and the router picks the
/// deployment, falls back when one fails — before the first token and
/// mid-stream — cools down deployments that keep failing or are rate
/// limited, serves repeated requests from its cache, checks budgets, and
/// records every request's tokens and cost.
///
/// Each deployment's attempt goes through the group's recovery pipeline
/// (the same `RecoveryPipeline` steps and notifications use, keyed by the
/// deployment's name), so a retry, breaker or rate limit written for steps
/// works here too. The router holds no thread: a request runs on its
/// caller's (worker) thread, and its state is under locks.
public final class ModelRouter: Sendable {
    public let settings: RouterSettings
    let plugins: @Sendable (String) -> PluginInstance?
    let health: DeploymentHealth
    /// Each group's recovery pipeline, built once.
    let pipelines: [String: RecoveryPipeline]
    let cache: ResponseCache?
    let semanticCache: SemanticCache?
    let store: (any ModelStore)?
    let ledger: UsageLedger?
    let clock: RouterClock
    let random: @Sendable () -> Double
    let logger: Logger

    public init(settings: RouterSettings, plugins: @escaping @Sendable (String) -> PluginInstance?,
                store: (any ModelStore)?, redactor: Redactor = .shared, clock: RouterClock = .system,
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }, logger: Logger) {
        self.settings = settings
        self.plugins = plugins
        self.store = store
        self.clock = clock
        self.random = random
        self.logger = logger
        cache = settings.cache.map { ResponseCache(settings: $0, store: store, redactor: redactor, logger: logger, now: clock.now()) }
        semanticCache = settings.cache.flatMap { cache in
            cache.semantic.map { SemanticCache(settings: $0, ttlSeconds: cache.ttlSeconds, redactor: redactor) }
        }
        var cooldowns: [String: ModelCooldown] = [:]
        do {
            cooldowns = try store?.cooldowns() ?? [:]
        } catch {
            logger.warning("deployments' cooldowns cannot be read from the store; none is assumed", metadata: ["error": "\(error)"])
        }
        health = DeploymentHealth(cooldowns: cooldowns)
        pipelines = settings.groups.mapValues { RecoveryPipeline($0.recovery, plugins: plugins) }
        ledger = store.map { UsageLedger(store: $0, budgets: settings.budgets, logger: logger) }
    }

    /// One request to route.
    public struct Request: Sendable {
        /// An alias, a provider plugin (`provider.openai`), or a plugin and model (`provider.openai/gpt-4o`).
        public var model: String
        /// The provider request without its `model`: messages, max_tokens, tools…
        public var body: JSONValue
        public var useCache = true
        /// For accounting and budgets.
        public var runID: String?
        public var workflow: String?

        public init(model: String, body: JSONValue, useCache: Bool = true, runID: String? = nil, workflow: String? = nil) {
            self.model = model
            self.body = body
            self.useCache = useCache
            self.runID = runID
            self.workflow = workflow
        }
    }

    /// What a streaming consumer sees: one continuous stream.
    public enum StreamEvent: Sendable, Equatable {
        /// A piece of the answer, and the deployment that wrote it.
        case text(String, deployment: String)
        /// The stream broke and `restart` is configured: what was shown
        /// so far is discarded, and `to` starts the answer over.
        case restart(from: String, to: String)
    }

    /// The group a model name means: a configured alias, or a one-deployment
    /// group for a provider plugin named directly.
    public func group(for model: String) throws(RouterError) -> ModelGroup {
        if let group = settings.groups[model] { return group }
        guard let (plugin, name) = RouterSettings.directProvider(model), let instance = plugins(plugin),
              instance.info.kind == .provider else {
            let known = settings.groups.keys.sorted()
            throw RouterError(.unknownModel,
                              "no model group is named '\(model)', and it is not a loaded provider plugin"
                                + (known.isEmpty ? "; the deployment config defines no groups (models.groups)"
                                                 : "; the groups are \(known.joined(separator: ", "))"),
                              errorClass: .config)
        }
        var group = ModelGroup(alias: model)
        group.deployments = [ModelDeployment(name: model, plugin: plugin, model: name)]
        return group
    }

    /// Routes `request`; `onStream` (when given) receives the answer as it
    /// arrives and returns false to stop it.
    public func complete(_ request: Request, context: PluginCallContext,
                         onStream: ((StreamEvent) -> Bool)? = nil) throws(RouterError) -> RoutedAnswer {
        let started = clock.now()
        let first = try group(for: request.model)
        guard !(request.body["messages"]?.arrayValue ?? []).isEmpty else {
            throw RouterError(.invalidRequest, "the request has no messages", errorClass: .config)
        }
        let tokens = estimatedTokens(request.body)
        try checkBudgets(request, group: first, estimatedTokens: tokens)

        let cacheKey = request.useCache && cache != nil ? ResponseCache.key(alias: request.model, request: request.body) : nil
        var hit = cacheKey.flatMap { key in cache?.answer(key, now: started) }.map { (answer: $0, similarity: Double?.none) }
        // On an exact miss, the semantic cache: the prompt's embedding against earlier ones.
        var semantic: (scope: String, vector: [Double])?
        if hit == nil, request.useCache, let semanticCache,
           let vector = semanticCache.embed(request.body, plugins: plugins, context: context) {
            let scope = SemanticCache.scope(alias: request.model, request: request.body)
            semantic = (scope, vector)
            hit = semanticCache.answer(scope: scope, vector: vector, now: started).map { ($0.answer, $0.similarity) }
        }
        if let hit {
            var answer = RoutedAnswer(cached: hit.answer, alias: request.model)
            answer.similarity = hit.similarity
            answer.latencySeconds = clock.now() - started
            if let onStream, !answer.text.isEmpty { _ = onStream(.text(answer.text, deployment: answer.deployment)) }
            record(answer, request: request)
            Counter(label: "trellis_ai_requests_total", dimensions: [("alias", request.model), ("outcome", "cache_hit")]).increment()
            return answer
        }

        var route = Route(request: request, context: context, onStream: onStream, started: started,
                          deadline: first.timeoutSeconds.map { started + $0 }, clock: clock)
        var groups = [first]
        var visited: Set<String> = [first.alias]
        while let group = groups.first {
            groups.removeFirst()
            switch try attempt(group, route: &route, estimatedTokens: tokens) {
            case .answered(var answer):
                answer.latencySeconds = clock.now() - started
                answer.attempts = route.attempts
                if let cacheKey, let cache { cache.store(cacheKey, answer: answer.cacheable, now: clock.now()) }
                if let semantic, let semanticCache {
                    semanticCache.store(scope: semantic.scope, vector: semantic.vector, answer: answer.cacheable, now: clock.now())
                }
                record(answer, request: request)
                Counter(label: "trellis_ai_requests_total", dimensions: [("alias", request.model), ("outcome", "answered")])
                    .increment()
                return answer
            case .fallback(let reason):
                // The reason's own fallback first, then `any`.
                for target in (group.fallbacks[reason] ?? []) + (group.fallbacks["any"] ?? [])
                where !visited.contains(target) {
                    if let next = settings.groups[target] {
                        visited.insert(target)
                        groups.append(next)
                        break
                    }
                }
            case .exhausted:
                for target in group.fallbacks["any"] ?? [] where !visited.contains(target) {
                    if let next = settings.groups[target] {
                        visited.insert(target)
                        groups.append(next)
                        break
                    }
                }
            }
        }
        Counter(label: "trellis_ai_requests_total", dimensions: [("alias", request.model), ("outcome", "failed")]).increment()
        throw route.failure(alias: request.model)
    }

    /// One request's progress across deployments and groups.
    struct Route {
        var request: Request
        var context: PluginCallContext
        var onStream: ((StreamEvent) -> Bool)?
        var started: Double
        /// Unix seconds; nil: the caller's deadline only.
        var deadline: Double?
        let clock: RouterClock
        var attempts: [RouteAttempt] = []
        /// The answer streamed so far by deployments that then broke (continue mode).
        var parts: [(deployment: String, text: String)] = []
        var earliestBack: Double?
        var consumerStopped = false
        var lastError: PluginCallError?

        var partialText: String { parts.map(\.text).joined() }

        func failure(alias: String) -> RouterError {
            if consumerStopped {
                return RouterError(.cancelled, "the request for '\(alias)' was stopped by its reader", errorClass: .cancelled,
                                   attempts: attempts)
            }
            if context.cancellation?.isCancelled == true {
                return RouterError(.cancelled, "the request for '\(alias)' was cancelled", errorClass: .cancelled, attempts: attempts)
            }
            let tried = attempts.filter { $0.errorClass != nil }
            if tried.allSatisfy({ $0.reason == "cooling" }), let earliestBack {
                let wait = max(0, earliestBack - clock.now())
                return RouterError(.allCooling, "every deployment of '\(alias)' is cooling: "
                                   + tried.map { "\($0.deployment) (\($0.message))" }.joined(separator: "; "),
                                   errorClass: .rateLimited, retryAfterMilliseconds: UInt64(wait * 1000), attempts: attempts)
            }
            let errorClass: ErrorClass = lastError?.errorClass == .rateLimited ? .rateLimited
                : (tried.contains { $0.errorClass == .retryable || $0.errorClass == .rateLimited } ? .retryable
                    : (lastError?.errorClass ?? .retryable))
            return RouterError(.exhausted, "no deployment of '\(alias)' answered: " + tried.map(\.summary).joined(separator: "; "),
                               errorClass: errorClass, retryAfterMilliseconds: lastError?.retryAfterMilliseconds ?? 0,
                               attempts: attempts)
        }
    }

    enum GroupResult {
        case answered(RoutedAnswer)
        /// Its deployments failed for a reason a fallback group may serve.
        case fallback(reason: String)
        case exhausted
    }
}

extension ModelRouter {
    /// A deployment as `trellis ai models` shows it.
    public struct DeploymentStatus: Sendable {
        public var group: String
        public var deployment: ModelDeployment
        /// Loaded and a provider.
        public var available: Bool
        public var coolingUntil: Double?
        public var coolingReason: String?
    }

    /// Every group's deployments and whether each is cooling now.
    public func statuses() -> [DeploymentStatus] {
        let now = clock.now()
        return settings.groups.keys.sorted().flatMap { alias in
            (settings.groups[alias]?.deployments ?? []).map { deployment in
                let cooling = health.cooling(deployment, now: now)
                return DeploymentStatus(group: alias, deployment: deployment,
                                        available: plugins(deployment.plugin)?.info.kind == .provider,
                                        coolingUntil: cooling?.until, coolingReason: cooling?.reason)
            }
        }
    }
}
