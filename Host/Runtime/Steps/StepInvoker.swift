import Foundation
import TrellisCore
import TrellisPluginHost
import TrellisSearch

/// Runs one attempt of a step on the calling (worker) thread: a plugin call,
/// or one of the built-ins `noop`, `exec`, `notify`, `ai`, `search.index` and
/// `search.query` (`sleep` is a
/// timer of the engine's, see `RunEngine.submitCall`).
struct StepInvoker: Sendable {
    let plugins: @Sendable (String) -> PluginInstance?
    let allowExec: Bool
    let notifications: NotificationService?
    let router: ModelRouter?
    let search: SearchEngine?

    func invoke(_ uses: String, inputs: JSONValue, context: PluginCallContext) -> StepOutcome {
        switch uses {
        case "noop":
            return .success(inputs)
        case "exec":
            guard allowExec else {
                return .failure(.config, message: "exec steps are disabled in this deployment", retryAfterMilliseconds: 0)
            }
            return Exec.run(inputs, context: context)
        case "notify":
            return notify(inputs, context: context)
        case "ai":
            guard let router else {
                return .failure(.config, message: "this host has no model router (it is built from the deployment config)",
                                retryAfterMilliseconds: 0)
            }
            return AIStep(router: router).run(inputs, context: context)
        case "search.index", "search.query":
            guard let search else {
                return .failure(.config, message: "this host has no search engine", retryAfterMilliseconds: 0)
            }
            return uses == "search.index" ? SearchStep(engine: search).index(inputs) : SearchStep(engine: search).query(inputs)
        default:
            return callPlugin(uses, inputs: inputs, context: context)
        }
    }

    private func callPlugin(_ id: String, inputs: JSONValue, context: PluginCallContext) -> StepOutcome {
        guard let plugin = plugins(id) else {
            return .failure(.config, message: "plugin \(id) is not loaded", retryAfterMilliseconds: 0)
        }
        do {
            switch plugin.info.kind {
            case .channel: return .success(try plugin.send(inputs, context: context))
            case .provider: return .success(try plugin.complete(inputs, context: context))
            default:
                return .failure(.config, message: "\(id) is a \(plugin.info.kind) plugin; a step uses a channel or a provider",
                                retryAfterMilliseconds: 0)
            }
        } catch {
            return .failure(error.errorClass, message: error.message, retryAfterMilliseconds: error.retryAfterMilliseconds)
        }
    }

    /// Queues the step's notifications; the service delivers them. The
    /// idempotency key names them, so a step run again queues nothing new.
    private func notify(_ inputs: JSONValue, context: PluginCallContext) -> StepOutcome {
        guard let notifications else {
            return .failure(.config, message: "this host runs no notification service (configure notifications: in the deployment config)",
                            retryAfterMilliseconds: 0)
        }
        do {
            let request = try NotificationRequest(step: inputs, source: context.idempotencyKey, key: context.idempotencyKey)
            let ids = try notifications.send(request)
            return .success(["notifications": .array(ids.map(JSONValue.string))])
        } catch let error as NotificationError {
            return .failure(.config, message: error.description, retryAfterMilliseconds: 0)
        } catch {
            return .failure(.retryable, message: "queuing the notification failed: \(error)", retryAfterMilliseconds: 0)
        }
    }
}
