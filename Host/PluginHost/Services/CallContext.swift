import CTrellisABI
import Foundation
import Synchronization
import TrellisJSON

/// A flag the host sets to ask a running plugin call to stop.
public final class CancellationToken: Sendable {
    private let flag = Atomic<Bool>(false)
    /// A token this one follows: cancelling the parent cancels this one.
    private let parent: CancellationToken?
    /// Unix milliseconds after which the call counts as stalled (0: never);
    /// a streamed call moves it on with each piece (see `stall(after:)`).
    private let idleDeadline = Atomic<Int64>(0)

    public init(parent: CancellationToken? = nil) {
        self.parent = parent
    }

    public func cancel() { flag.store(true, ordering: .releasing) }

    public var isCancelled: Bool {
        if flag.load(ordering: .acquiring) || parent?.isCancelled == true { return true }
        return isStalled
    }

    /// The idle deadline passed: nothing came for longer than allowed.
    public var isStalled: Bool {
        let deadline = idleDeadline.load(ordering: .relaxed)
        return deadline > 0 && currentUnixMilliseconds() > deadline
    }

    /// Counts the call as stalled (and so cancelled) when `seconds` pass
    /// without another call to this; nil clears it.
    public func stall(after seconds: Double?) {
        let deadline = seconds.map { currentUnixMilliseconds() + Int64(($0 * 1000).rounded(.up)) } ?? 0
        idleDeadline.store(deadline, ordering: .relaxed)
    }
}

/// What the host tells a plugin about one call: who is calling (run, step,
/// attempt), the idempotency key, the deadline and the cancellation token.
public struct PluginCallContext: Sendable {
    public var idempotencyKey: String
    public var runID: String
    public var stepID: String
    public var attempt: UInt32
    /// Unix time in milliseconds; nil means no deadline.
    public var deadlineUnixMilliseconds: Int64?
    public var cancellation: CancellationToken?
    /// The run's workflow, for the host's own accounting (not passed to plugins).
    public var workflow: String

    public init(idempotencyKey: String = "", runID: String = "", stepID: String = "", attempt: UInt32 = 1,
                deadlineUnixMilliseconds: Int64? = nil, cancellation: CancellationToken? = nil, workflow: String = "") {
        self.idempotencyKey = idempotencyKey
        self.runID = runID
        self.stepID = stepID
        self.attempt = attempt
        self.deadlineUnixMilliseconds = deadlineUnixMilliseconds
        self.cancellation = cancellation
        self.workflow = workflow
    }

    public static let none = PluginCallContext()

    /// Calls `body` with the ABI view of this context, valid only inside it.
    func withABI<R>(_ body: (UnsafePointer<trellis_call_context_t>) throws -> R) rethrows -> R {
        try withABIString(idempotencyKey) { key in
            try withABIString(runID) { run in
                try withABIString(stepID) { step in
                    var raw = trellis_call_context_t(
                        struct_size: UInt32(MemoryLayout<trellis_call_context_t>.size),
                        idempotency_key: key, run_id: run, step_id: step, attempt: attempt,
                        deadline_unix_ms: deadlineUnixMilliseconds ?? 0,
                        host_token: cancellation.map { UnsafeRawPointer(Unmanaged.passUnretained($0).toOpaque()) })
                    return try withExtendedLifetime(cancellation) { try body(&raw) }
                }
            }
        }
    }
}

func currentUnixMilliseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}
