import CTrellisABI
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import TrellisJSON

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
    private let policies = Mutex<PolicyCache>(PolicyCache())

    init(_ plugin: P) { self.plugin = plugin }

    /// The strategy's calls with one decoded policy bound in. The cache holds
    /// these (not `P.Policy` values) so that a lookup touches no generic
    /// container: that keeps the per-call cost free of runtime metadata
    /// lookups, which dominate an unspecialized generic hot path.
    func prepared(_ json: trellis_str_t) throws -> PreparedPolicy {
        if let hit = policies.withLock({ $0.lookup(json) }) { return hit }
        let policy: P.Policy
        do {
            policy = try PluginJSON.decode(P.Policy.self, from: json.bytes)
        } catch {
            throw PluginError.classify(error, while: "invalid recovery policy for \(P.id)")
        }
        let plugin = self.plugin
        let prepared = PreparedPolicy(
            decide: { try plugin.decide($0, policy: policy, context: $1) },
            admit: { try plugin.admit($0, policy: policy, context: $1) },
            record: { plugin.record($0, policy: policy) })
        policies.withLock { $0.insert(Array(json.bytes), prepared) }
        return prepared
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
            let choice = try prepared(raw.pointee.policy_json).decide(failure, context)
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
            switch try prepared(raw.pointee.policy_json).admit(attempt, context) {
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
        guard let prepared = try? prepared(json) else { return }
        prepared.record(Outcome(key: raw.pointee.key.string,
                                errorClass: result == TRELLIS_OK ? nil : PluginError.Code(rawValue: result),
                                durationMilliseconds: raw.pointee.duration_ms))
    }
}

/// A recovery strategy's calls for one step's parameters.
final class PreparedPolicy: Sendable {
    let decide: @Sendable (Failure, CallContext) throws -> RecoveryDecision
    let admit: @Sendable (Attempt, CallContext) throws -> Admission
    let record: @Sendable (Outcome) -> Void

    init(decide: @escaping @Sendable (Failure, CallContext) throws -> RecoveryDecision,
         admit: @escaping @Sendable (Attempt, CallContext) throws -> Admission,
         record: @escaping @Sendable (Outcome) -> Void) {
        self.decide = decide
        self.admit = admit
        self.record = record
    }
}

/// Prepared policies by their JSON bytes. The host sends each step's
/// parameters as the same bytes on every call, so the last one used is
/// checked first with a plain byte comparison.
struct PolicyCache {
    private var last: (bytes: [UInt8], prepared: PreparedPolicy)?
    private var all: [[UInt8]: PreparedPolicy] = [:]

    mutating func lookup(_ json: trellis_str_t) -> PreparedPolicy? {
        if let last, last.bytes.count == json.len,
           last.bytes.withUnsafeBytes({ json.len == 0 || memcmp($0.baseAddress!, json.ptr, json.len) == 0 }) {
            return last.prepared
        }
        let bytes = Array(json.bytes)
        guard let found = all[bytes] else { return nil }
        last = (bytes, found)
        return found
    }

    mutating func insert(_ bytes: [UInt8], _ prepared: PreparedPolicy) {
        if all.count >= 1024 { all.removeAll() }
        all[bytes] = prepared
        last = (bytes, prepared)
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
