import Foundation
import TrellisCore
import TrellisPluginHost
import TrellisStore

extension ModelRouter {
    /// Tries `group`'s deployments in the strategy's order, each through
    /// the group's recovery pipeline, waiting (within bounds) when all cool.
    func attempt(_ group: ModelGroup, route: inout Route, estimatedTokens: Int) throws(RouterError) -> GroupResult {
        // A provider named directly is a group of one, with no pipeline.
        let pipeline = pipelines[group.alias] ?? RecoveryPipeline([], plugins: plugins)
        var waited = 0.0
        while true {
            let now = clock.now()
            let order = RouteOrder(group, health: health, now: now, estimatedTokens: estimatedTokens, random: random)
            if order.ready.isEmpty {
                let earliest = order.skipped.map(\.until).min() ?? now
                let wait = earliest - now
                if wait > 0, waited + wait <= group.maxCooldownWaitSeconds, !pastDeadline(route, after: wait) {
                    guard clock.sleep(wait, route.context.cancellation) else { throw route.failure(alias: route.request.model) }
                    waited += wait
                    continue
                }
                for skipped in order.skipped {
                    route.attempts.append(RouteAttempt(
                        group: group.alias, deployment: skipped.deployment.name, errorClass: .rateLimited, reason: "cooling",
                        message: "\(skipped.reason), back at \(Self.clockTime(skipped.until))"
                            + (waited > 0 ? " (waited \(formatDuration(waited)))" : ""),
                        latencySeconds: 0))
                }
                route.earliestBack = min(route.earliestBack ?? earliest, earliest)
                return .exhausted
            }
            var fallbackReason: String?
            for deployment in order.ready {
                switch try attempt(deployment, in: group, pipeline: pipeline, route: &route) {
                case .answered(let answer): return .answered(answer)
                case .next: continue
                case .fallback(let reason):
                    if group.fallbacks[reason] != nil { return .fallback(reason: reason) }
                    fallbackReason = fallbackReason ?? reason
                }
            }
            return fallbackReason.map { .fallback(reason: $0) } ?? .exhausted
        }
    }

    /// The most attempts one deployment gets in one request, whatever its
    /// recovery pipeline asks (a strategy that always says retry cannot hold a request).
    static let maxAttemptsPerDeployment = 10

    enum DeploymentResult {
        case answered(RoutedAnswer)
        case next
        case fallback(reason: String)
    }

    /// One deployment: attempts while the recovery pipeline asks for them.
    private func attempt(_ deployment: ModelDeployment, in group: ModelGroup, pipeline: RecoveryPipeline,
                         route: inout Route) throws(RouterError) -> DeploymentResult {
        guard let plugin = plugins(deployment.plugin) else {
            route.attempts.append(RouteAttempt(group: group.alias, deployment: deployment.name, errorClass: .config, reason: nil,
                                               message: "plugin \(deployment.plugin) is not loaded", latencySeconds: 0))
            return .next
        }
        var attemptNumber = 1
        while true {
            if route.context.cancellation?.isCancelled == true || route.consumerStopped {
                throw route.failure(alias: route.request.model)
            }
            let key = deployment.name
            let (admission, _) = pipeline.admit(attempt: attemptNumber, elapsed: clock.now() - route.started, key: key,
                                                context: route.context)
            var attemptTimeout: Double?
            switch admission {
            case .reject(let summary, let strategy):
                route.attempts.append(RouteAttempt(group: group.alias, deployment: deployment.name, errorClass: summary.errorClass,
                                                   reason: "rejected", message: "\(strategy): \(summary.message)", latencySeconds: 0))
                return .next
            case .delay(let milliseconds, _):
                let seconds = Double(milliseconds) / 1000
                guard !pastDeadline(route, after: seconds), clock.sleep(seconds, route.context.cancellation) else {
                    throw route.failure(alias: route.request.model)
                }
                continue
            case .proceed(let timeout, _):
                attemptTimeout = timeout
            }
            let began = clock.now()
            health.started(deployment, now: began)
            let outcome = call(plugin, deployment: deployment, group: group, route: &route, attemptTimeout: attemptTimeout)
            let latency = clock.now() - began
            switch outcome {
            case .success(let response):
                let usage = response["usage"]
                let input = usage?["input_tokens"]?.intValue ?? 0
                let output = usage?["output_tokens"]?.intValue ?? 0
                health.succeeded(deployment, latency: latency, tokens: input + output)
                _ = pipeline.record(key: key, result: nil, duration: latency)
                route.attempts.append(RouteAttempt(group: group.alias, deployment: deployment.name, errorClass: nil, reason: nil,
                                                   message: "", latencySeconds: latency))
                var answer = RoutedAnswer(response: response, alias: route.request.model, deployment: deployment,
                                          parts: route.parts)
                answer.cost = deployment.cost(inputTokens: input, outputTokens: output)
                return .answered(answer)
            case .stopped:
                health.ended(deployment)
                route.consumerStopped = true
                throw route.failure(alias: route.request.model)
            case .failure(let error):
                let cooled = health.failed(deployment, error: error, policy: group.cooldown, now: clock.now())
                if let cooled {
                    do {
                        try store?.setCooldown(ModelCooldown(until: cooled.until, reason: cooled.reason),
                                               deployment: DeploymentHealth.key(deployment))
                    } catch {
                        logger.warning("a cooldown was not kept in the store (this process still honours it)",
                                       metadata: ["ai.deployment": "\(deployment.name)", "error": "\(error)"])
                    }
                }
                _ = pipeline.record(key: key, result: error.errorClass, duration: latency)
                route.lastError = error
                route.attempts.append(RouteAttempt(
                    group: group.alias, deployment: deployment.name, errorClass: error.errorClass, reason: error.reason,
                    message: error.message + (cooled.map { "; cooling until \(Self.clockTime($0.until))" } ?? ""),
                    latencySeconds: latency))
                logger.info("model deployment failed", metadata: [
                    "ai.alias": "\(route.request.model)", "ai.deployment": "\(deployment.name)",
                    "error.class": "\(error.errorClass.rawValue)", "error.reason": "\(error.reason ?? "")",
                ])
                if error.errorClass == .cancelled, route.context.cancellation?.isCancelled == true {
                    throw route.failure(alias: route.request.model)
                }
                if let reason = error.reason, reason == "context_length" || reason == "content_policy" {
                    return .fallback(reason: reason)
                }
                // Text already shown moves on to another deployment (the
                // pipeline's retry would repeat it); otherwise the pipeline decides.
                if error.reason == "stream_broken" { return .next }
                let failure = RecoveryFailure(errorClass: error.errorClass, retryAfterMilliseconds: error.retryAfterMilliseconds,
                                              message: error.message, attempt: UInt32(attemptNumber),
                                              elapsedMilliseconds: UInt64(max(0, clock.now() - route.started) * 1000), key: key)
                guard !pipeline.isEmpty, case .decided(.retry(afterMilliseconds: let delay), _) = pipeline.decide(failure, context: route.context).verdict
                else { return .next }
                // However a strategy answers, a deployment gets a bounded number of attempts.
                guard attemptNumber < Self.maxAttemptsPerDeployment else { return .next }
                let seconds = Double(delay) / 1000
                guard !pastDeadline(route, after: seconds), clock.sleep(seconds, route.context.cancellation) else {
                    throw route.failure(alias: route.request.model)
                }
                attemptNumber += 1
            }
        }
    }

    enum CallOutcome {
        case success(JSONValue)
        case failure(PluginCallError)
        /// The consumer stopped reading.
        case stopped
    }

    /// One call of a provider: the request with this deployment's model (and
    /// the partial answer to go on from), streamed when the consumer streams.
    private func call(_ plugin: PluginInstance, deployment: ModelDeployment, group: ModelGroup, route: inout Route,
                      attemptTimeout: Double?) -> CallOutcome {
        guard case .object(var body) = route.request.body else { return .failure(PluginCallError(.config, "the request is not an object", pluginID: deployment.plugin)) }
        if !deployment.model.isEmpty { body["model"] = .string(deployment.model)  } else { body["model"] = nil }
        let partial = route.partialText
        if !partial.isEmpty, var messages = body["messages"]?.arrayValue {
            // Go on from what was already shown (a trailing assistant message is a prefill).
            messages.append(["role": "assistant", "content": .string(partial)])
            body["messages"] = .array(messages)
        }
        let token = CancellationToken(parent: route.context.cancellation)
        var context = route.context
        context.cancellation = token
        let limits = [route.deadline, attemptTimeout.map { clock.now() + $0 }, route.context.deadlineUnixMilliseconds.map { Double($0) / 1000 }]
            .compactMap { $0 }
        if let deadline = limits.min() { context.deadlineUnixMilliseconds = Int64(deadline * 1000) }

        guard let onStream = route.onStream else {
            do {
                return .success(try plugin.complete(.object(body), context: context))
            } catch {
                return .failure(error)
            }
        }
        var shown = ""
        var stopped = false
        token.stall(after: group.idleTimeoutSeconds)
        let result: Result<JSONValue, PluginCallError>
        do {
            result = .success(try plugin.complete(.object(body), context: context, onChunk: { piece in
                token.stall(after: group.idleTimeoutSeconds)
                shown += piece
                guard onStream(.text(piece, deployment: deployment.name)) else {
                    stopped = true
                    return false
                }
                return true
            }))
        } catch {
            result = .failure(error)
        }
        let stalled = token.isStalled && route.context.cancellation?.isCancelled != true
        token.stall(after: nil)
        if stopped { return .stopped }
        switch result {
        case .success(let response):
            return .success(response)
        case .failure(var error):
            if stalled {
                error = PluginCallError(.retryable, "the stream stalled: nothing came for \(formatDuration(group.idleTimeoutSeconds))",
                                        pluginID: deployment.plugin, reason: shown.isEmpty ? "stalled" : "stream_broken")
            } else if !shown.isEmpty, error.reason == nil, error.errorClass != .cancelled {
                error.reason = "stream_broken"
            }
            if !shown.isEmpty {
                switch group.onStreamFailure {
                case .continue:
                    route.parts.append((deployment.name, shown))
                case .restart:
                    route.parts = []
                    _ = onStream(.restart(from: deployment.name, to: "the next deployment"))
                }
            }
            return .failure(error)
        }
    }

    private func pastDeadline(_ route: Route, after seconds: Double) -> Bool {
        let now = clock.now()
        if let deadline = route.deadline, now + seconds > deadline { return true }
        if let deadline = route.context.deadlineUnixMilliseconds, (now + seconds) * 1000 > Double(deadline) { return true }
        return false
    }

    /// A time of day for messages, UTC: 12:00:03.
    static func clockTime(_ unixSeconds: Double) -> String {
        var seconds = time_t(unixSeconds)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%02d:%02d:%02d UTC", Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }
}
