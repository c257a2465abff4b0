import CTrellisABI
import Synchronization

/// Calls a recovery plugin from the ABI's raw structs, decoding each step's
/// policy once and reusing it (admission runs on every attempt).
protocol RecoveryBridge: Sendable {
    func decide(_ failure: UnsafePointer<trellis_failure_t>, decision: UnsafeMutablePointer<trellis_decision_t>,
                context: CallContext, reply: Reply) -> trellis_status_t
    func admit(_ attempt: UnsafePointer<trellis_attempt_t>, admission: UnsafeMutablePointer<trellis_admission_t>,
               context: CallContext, reply: Reply) -> trellis_status_t
    func record(_ outcome: UnsafePointer<trellis_outcome_t>)
}

final class TypedRecoveryBridge<P: RecoveryPlugin>: RecoveryBridge, @unchecked Sendable {
    let plugin: P
    private let policies = Mutex<[String: P.Policy]>([:])

    init(_ plugin: P) { self.plugin = plugin }

    func policy(_ json: trellis_str_t) throws -> P.Policy {
        let key = json.string
        if let cached = policies.withLock({ $0[key] }) { return cached }
        let policy: P.Policy
        do {
            policy = try PluginJSON.decode(P.Policy.self, from: json.bytes)
        } catch {
            throw PluginError.classify(error, while: "invalid recovery policy for \(P.id)")
        }
        policies.withLock { cache in
            if cache.count > 1024 { cache.removeAll() }
            cache[key] = policy
        }
        return policy
    }

    func decide(_ raw: UnsafePointer<trellis_failure_t>, decision: UnsafeMutablePointer<trellis_decision_t>,
                context: CallContext, reply: Reply) -> trellis_status_t {
        reply.perform("recovery decision failed") {
            let failure = Failure(
                errorClass: PluginError.Code(rawValue: raw.pointee.error_class),
                retryAfterMilliseconds: raw.pointee.retry_after_ms,
                message: raw.pointee.message.string,
                attempt: Int(raw.pointee.attempt),
                elapsedMilliseconds: raw.pointee.elapsed_ms,
                key: raw.pointee.key.string)
            let choice = try plugin.decide(failure, policy: policy(raw.pointee.policy_json), context: context)
            decision.pointee.delay_ms = 0
            decision.pointee.quality = 1
            switch choice {
            case .fail:
                decision.pointee.action = trellis_recovery_action_t(TRELLIS_RECOVERY_FAIL)
            case .pass:
                decision.pointee.action = trellis_recovery_action_t(TRELLIS_RECOVERY_PASS)
            case .useCached(let maxAge):
                decision.pointee.action = trellis_recovery_action_t(TRELLIS_RECOVERY_USE_CACHED)
                if let maxAge { return try PluginJSON.encode(CachedDetail(max_age_ms: maxAge)) }
            case .retry(let delay):
                decision.pointee.action = trellis_recovery_action_t(TRELLIS_RECOVERY_RETRY)
                decision.pointee.delay_ms = delay
            case .fallback(let uses, let inputs):
                decision.pointee.action = trellis_recovery_action_t(TRELLIS_RECOVERY_FALLBACK)
                return try PluginJSON.encode(FallbackDetail(uses: uses, with: AnyEncodable(inputs)))
            case .degrade(let output, let quality):
                decision.pointee.action = trellis_recovery_action_t(TRELLIS_RECOVERY_DEGRADE)
                decision.pointee.quality = min(max(quality, 0), 1)
                return try PluginJSON.encode(output)
            }
            return nil
        }
    }

    func admit(_ raw: UnsafePointer<trellis_attempt_t>, admission: UnsafeMutablePointer<trellis_admission_t>,
               context: CallContext, reply: Reply) -> trellis_status_t {
        do {
            let attempt = Attempt(attempt: Int(raw.pointee.attempt), elapsedMilliseconds: raw.pointee.elapsed_ms,
                                  key: raw.pointee.key.string)
            admission.pointee.reject_with = trellis_status_t(TRELLIS_OK)
            admission.pointee.delay_ms = 0
            admission.pointee.attempt_timeout_ms = 0
            switch try plugin.admit(attempt, policy: policy(raw.pointee.policy_json), context: context) {
            case .proceed:
                break
            case .proceedWithTimeout(let milliseconds):
                admission.pointee.attempt_timeout_ms = milliseconds
            case .hedge(let after, let maximum, let uses, let with):
                let plan = HedgeDetail(hedge: .init(after_ms: after, max: maximum, uses: uses, with: with))
                reply.output(try PluginJSON.encode(plan))
            case .delay(let milliseconds):
                admission.pointee.delay_ms = milliseconds
            case .reject(let code, let message, let retryAfter):
                admission.pointee.reject_with = code.rawValue
                reply.fail(PluginError(code, message, retryAfterMilliseconds: retryAfter))
            }
            return trellis_status_t(TRELLIS_OK)
        } catch {
            return reply.fail(PluginError.classify(error, while: "admission failed"))
        }
    }

    func record(_ raw: UnsafePointer<trellis_outcome_t>) {
        let result = raw.pointee.result
        // A 1.0 host sends no policy: the strategy sees its defaults.
        let json = has(\trellis_outcome_t.policy_json, in: raw.pointee.struct_size) ? raw.pointee.policy_json
            : trellis_str_t(ptr: nil, len: 0)
        guard let policy = try? policy(json) else { return }
        plugin.record(Outcome(key: raw.pointee.key.string,
                              errorClass: result == TRELLIS_OK ? nil : PluginError.Code(rawValue: result),
                              durationMilliseconds: raw.pointee.duration_ms), policy: policy)
    }
}

private struct CachedDetail: Encodable {
    var max_age_ms: UInt64
}

private struct HedgeDetail: Encodable {
    struct Plan: Encodable {
        var after_ms: UInt64
        var max: Int
        var uses: String?
        var with: JSON?
    }
    var hedge: Plan
}

private struct FallbackDetail: Encodable {
    var uses: String
    var with: AnyEncodable
}

private struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}

nonisolated(unsafe) let recoveryTable: UnsafeRawPointer = {
    let table = UnsafeMutablePointer<trellis_recovery_v1_t>.allocate(capacity: 1)
    table.initialize(to: trellis_recovery_v1_t(
        struct_size: UInt32(MemoryLayout<trellis_recovery_v1_t>.size),
        decide: { instance, context, failure, decision, reply in
            let reply = Reply(raw: reply)
            guard let box = InstanceBox.from(instance), let bridge = box.recovery, let failure, let decision else {
                return reply.fail(missingInstance)
            }
            return bridge.decide(failure, decision: decision, context: CallContext(raw: context, host: box.host),
                                 reply: reply)
        },
        before_attempt: { instance, context, attempt, admission, reply in
            let reply = Reply(raw: reply)
            guard let box = InstanceBox.from(instance), let bridge = box.recovery, let attempt, let admission else {
                return reply.fail(missingInstance)
            }
            return bridge.admit(attempt, admission: admission, context: CallContext(raw: context, host: box.host),
                                reply: reply)
        },
        record_outcome: { instance, outcome in
            guard let box = InstanceBox.from(instance), let bridge = box.recovery, let outcome else { return }
            bridge.record(outcome)
        }))
    return UnsafeRawPointer(table)
}()
