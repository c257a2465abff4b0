import CTrellisABI
import TrellisCore

/// A failed attempt, as the host describes it to a recovery strategy.
public struct RecoveryFailure: Sendable {
    public var errorClass: ErrorClass
    public var retryAfterMilliseconds: UInt64
    public var message: String
    public var attempt: UInt32
    public var elapsedMilliseconds: UInt64
    public var key: String
    /// The strategy's parameters from the step's `recovery:` entry.
    public var policy: JSONValue

    public init(errorClass: ErrorClass, retryAfterMilliseconds: UInt64 = 0, message: String, attempt: UInt32,
                elapsedMilliseconds: UInt64 = 0, key: String = "", policy: JSONValue = .object([:])) {
        self.errorClass = errorClass
        self.retryAfterMilliseconds = retryAfterMilliseconds
        self.message = message
        self.attempt = attempt
        self.elapsedMilliseconds = elapsedMilliseconds
        self.key = key
        self.policy = policy
    }
}

/// What a recovery strategy decided.
public enum RecoveryDecision: Sendable, Equatable {
    case fail
    case retry(afterMilliseconds: UInt64)
    /// Run `uses` with `with` instead.
    case fallback(JSONValue)
    /// Serve the last good output if younger than the maximum age (nil: any age).
    case useCached(maxAgeMilliseconds: UInt64?)
    case degrade(output: JSONValue, quality: Double)
    case pass
}

/// What a recovery strategy says before an attempt starts.
public enum AdmissionDecision: Sendable, Equatable {
    case proceed(attemptTimeoutMilliseconds: UInt64?, hedge: HedgePlan? = nil)
    case delay(milliseconds: UInt64)
    case reject(PluginCallError.Summary)
}

/// Start more calls of an attempt that has not answered (since ABI 1.2).
public struct HedgePlan: Sendable, Equatable {
    /// How long an attempt runs before another call of it starts.
    public var afterMilliseconds: UInt64
    /// How many more calls may start.
    public var maxHedges: Int
    /// The plugin the extra calls use (nil: the step's own) and their inputs.
    public var uses: String?
    public var with: JSONValue?

    public init(afterMilliseconds: UInt64, maxHedges: Int, uses: String? = nil, with: JSONValue? = nil) {
        self.afterMilliseconds = afterMilliseconds
        self.maxHedges = maxHedges
        self.uses = uses
        self.with = with
    }

    init?(_ detail: JSONValue) {
        guard let plan = detail["hedge"], let after = plan["after_ms"]?.doubleValue, after >= 0,
              let maximum = plan["max"]?.doubleValue, maximum >= 1 else { return nil }
        self.init(afterMilliseconds: UInt64(after), maxHedges: Int(maximum), uses: plan["uses"]?.stringValue,
                  with: plan["with"].flatMap { $0 == .null ? nil : $0 })
    }
}

extension PluginCallError {
    /// The comparable part of an error.
    public struct Summary: Sendable, Equatable {
        public var errorClass: ErrorClass
        public var message: String
        public var retryAfterMilliseconds: UInt64
    }

    public var summary: Summary { Summary(errorClass: errorClass, message: message, retryAfterMilliseconds: retryAfterMilliseconds) }
}

extension PluginInstance {
    private var recoveryTable: UnsafePointer<trellis_recovery_v1_t>? {
        table(.recovery, as: trellis_recovery_v1_t.self)
    }

    private func requireRecovery() throws(PluginCallError) -> UnsafePointer<trellis_recovery_v1_t> {
        guard let table = recoveryTable else {
            throw PluginCallError(.config, "\(info.id) is a \(info.kind) plugin, not a recovery strategy", pluginID: info.id)
        }
        return table
    }

    /// Asks the strategy what to do after a failed attempt.
    public func decide(_ failure: RecoveryFailure, context: PluginCallContext = .none) throws(PluginCallError) -> RecoveryDecision {
        let decide = try requireRecovery().pointee.decide!
        let raw = self.raw
        var decision = trellis_decision_t(struct_size: UInt32(MemoryLayout<trellis_decision_t>.size),
                                          action: trellis_recovery_action_t(TRELLIS_RECOVERY_PASS), delay_ms: 0, quality: 1)
        let (status, reply) = serialized {
            withABIString(failure.message) { message in
                withABIString(failure.key) { key in
                    withABIString(bytes: failure.policy.jsonBytes()) { policy in
                        var abiFailure = trellis_failure_t(
                            struct_size: UInt32(MemoryLayout<trellis_failure_t>.size),
                            error_class: failure.errorClass.abiStatus, retry_after_ms: failure.retryAfterMilliseconds,
                            message: message, attempt: failure.attempt, elapsed_ms: failure.elapsedMilliseconds,
                            key: key, policy_json: policy)
                        return context.withABI { abiContext in
                            withReply { decide(raw, abiContext, &abiFailure, &decision, $0) }
                        }
                    }
                }
            }
        }
        if status != TRELLIS_OK { throw self.failure(status, reply) }
        switch decision.action {
        case trellis_recovery_action_t(TRELLIS_RECOVERY_FAIL): return .fail
        case trellis_recovery_action_t(TRELLIS_RECOVERY_RETRY): return .retry(afterMilliseconds: decision.delay_ms)
        case trellis_recovery_action_t(TRELLIS_RECOVERY_FALLBACK): return .fallback(try parseOutput(reply))
        case trellis_recovery_action_t(TRELLIS_RECOVERY_USE_CACHED):
            // Since 1.2 the reply may bound the age; without it any age serves.
            let detail: JSONValue? = reply.output == nil ? nil : try parseOutput(reply)
            return .useCached(maxAgeMilliseconds: detail?["max_age_ms"]?.doubleValue.map { UInt64(max(0, $0)) })
        case trellis_recovery_action_t(TRELLIS_RECOVERY_DEGRADE):
            return .degrade(output: try parseOutput(reply), quality: min(max(decision.quality, 0), 1))
        case trellis_recovery_action_t(TRELLIS_RECOVERY_PASS): return .pass
        default:
            throw PluginCallError(.permanent, "the strategy answered with unknown action \(decision.action)", pluginID: info.id)
        }
    }

    /// Asks the strategy whether an attempt may start.
    public func admit(attempt: UInt32, elapsedMilliseconds: UInt64 = 0, key: String = "", policy: JSONValue = .object([:]),
                      context: PluginCallContext = .none) throws(PluginCallError) -> AdmissionDecision {
        try admit(attempt: attempt, elapsedMilliseconds: elapsedMilliseconds, key: key, policyJSON: policy.jsonBytes(),
                  context: context)
    }

    /// `admit` with the parameters already serialized (the runner does it once per step).
    public func admit(attempt: UInt32, elapsedMilliseconds: UInt64 = 0, key: String, policyJSON: [UInt8],
                      context: PluginCallContext = .none) throws(PluginCallError) -> AdmissionDecision {
        let table = try requireRecovery()
        guard has(\trellis_recovery_v1_t.before_attempt, in: table.pointee.struct_size),
              let beforeAttempt = table.pointee.before_attempt else { return .proceed(attemptTimeoutMilliseconds: nil) }
        let raw = self.raw
        var admission = trellis_admission_t(struct_size: UInt32(MemoryLayout<trellis_admission_t>.size),
                                            reject_with: trellis_status_t(TRELLIS_OK), delay_ms: 0, attempt_timeout_ms: 0)
        let (status, reply) = serialized {
            withABIString(key) { abiKey in
                withABIString(bytes: policyJSON) { abiPolicy in
                    var abiAttempt = trellis_attempt_t(struct_size: UInt32(MemoryLayout<trellis_attempt_t>.size),
                                                       attempt: attempt, elapsed_ms: elapsedMilliseconds,
                                                       key: abiKey, policy_json: abiPolicy)
                    return context.withABI { abiContext in
                        withReply { beforeAttempt(raw, abiContext, &abiAttempt, &admission, $0) }
                    }
                }
            }
        }
        if status != TRELLIS_OK { throw failure(status, reply) }
        if admission.reject_with != TRELLIS_OK { return .reject(failure(admission.reject_with, reply).summary) }
        if admission.delay_ms > 0 { return .delay(milliseconds: admission.delay_ms) }
        let hedge = reply.output == nil ? nil : HedgePlan(try parseOutput(reply))
        return .proceed(attemptTimeoutMilliseconds: admission.attempt_timeout_ms > 0 ? admission.attempt_timeout_ms : nil,
                        hedge: hedge)
    }

    /// Tells the strategy how an attempt ended.
    public func record(key: String, result: ErrorClass?, durationMilliseconds: UInt64,
                       policy: JSONValue = .object([:])) throws(PluginCallError) {
        try record(key: key, result: result, durationMilliseconds: durationMilliseconds, policyJSON: policy.jsonBytes())
    }

    /// `record` with the parameters already serialized.
    public func record(key: String, result: ErrorClass?, durationMilliseconds: UInt64,
                       policyJSON: [UInt8]) throws(PluginCallError) {
        let table = try requireRecovery()
        guard has(\trellis_recovery_v1_t.record_outcome, in: table.pointee.struct_size),
              let recordOutcome = table.pointee.record_outcome else { return }
        let raw = self.raw
        serialized {
            withABIString(key) { abiKey in
                withABIString(bytes: policyJSON) { abiPolicy in
                    var outcome = trellis_outcome_t(struct_size: UInt32(MemoryLayout<trellis_outcome_t>.size), key: abiKey,
                                                    result: result?.abiStatus ?? trellis_status_t(TRELLIS_OK),
                                                    duration_ms: durationMilliseconds, policy_json: abiPolicy)
                    recordOutcome(raw, &outcome)
                }
            }
        }
    }
}
