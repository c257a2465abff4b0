import TrellisJSON

/// A plugin that decides what happens around a step's attempts
/// (`trellis.recovery/1`). The host runs a step's recovery pipeline in order;
/// each strategy may admit, delay or reject an attempt before it starts, and
/// decide after a failure.
public protocol RecoveryPlugin: TrellisPlugin {
    /// The parameters a step gives this strategy under `recovery:`.
    associatedtype Policy: Decodable & Sendable = EmptyConfiguration

    /// Decides after a failed attempt.
    func decide(_ failure: Failure, policy: Policy, context: CallContext) throws -> RecoveryDecision

    /// Admits, delays or rejects an attempt before it starts.
    func admit(_ attempt: Attempt, policy: Policy, context: CallContext) throws -> Admission

    /// Learns how an attempt ended (for stateful strategies), with the step's
    /// parameters for this strategy.
    func record(_ outcome: Outcome, policy: Policy)
}

extension RecoveryPlugin {
    public func admit(_ attempt: Attempt, policy: Policy, context: CallContext) throws -> Admission { .proceed }
    public func record(_ outcome: Outcome, policy: Policy) {}
}

/// A failed attempt, as the recovery strategy sees it.
public struct Failure: Sendable {
    public var errorClass: PluginError.Code
    public var retryAfterMilliseconds: UInt64
    public var message: String
    /// The attempt that failed, from 1.
    public var attempt: Int
    public var elapsedMilliseconds: UInt64
    /// The key stateful strategies keep their state under (plugin and target).
    public var key: String
}

/// An attempt about to start.
public struct Attempt: Sendable {
    public var attempt: Int
    public var elapsedMilliseconds: UInt64
    public var key: String
}

/// How an attempt ended.
public struct Outcome: Sendable {
    public var key: String
    /// nil when the attempt succeeded.
    public var errorClass: PluginError.Code?
    public var durationMilliseconds: UInt64
}

public enum RecoveryDecision: Sendable {
    /// The failure stands.
    case fail
    /// Try again after the delay.
    case retry(afterMilliseconds: UInt64)
    /// Run another plugin instead, with these inputs.
    case fallback(uses: String, with: any Encodable & Sendable)
    /// Serve the last good output of the same step for the same inputs, if
    /// it is younger than the maximum age (nil: any age). The host marks it
    /// stale with its age.
    case useCached(maxAgeMilliseconds: UInt64? = nil)
    /// Complete the step with this output and a quality in 0...1.
    case degrade(output: any Encodable & Sendable, quality: Double)
    /// No opinion: let the next strategy decide.
    case pass
}

public enum Admission: Sendable, Equatable {
    case proceed
    /// Start, and if the attempt has not answered after `afterMilliseconds`,
    /// start another call of it (up to `maxHedges` more), against `uses` with
    /// `with` when given (else the step's own plugin and inputs). The first
    /// success wins; the host cancels the others.
    case hedge(afterMilliseconds: UInt64, maxHedges: Int, uses: String? = nil, with: JSON? = nil)
    /// Start, but give the attempt its own deadline.
    case proceedWithTimeout(milliseconds: UInt64)
    /// Wait before starting.
    case delay(milliseconds: UInt64)
    /// Fail fast without calling the step's plugin.
    case reject(PluginError.Code, message: String, retryAfterMilliseconds: UInt64 = 0)
}
