import Foundation
import TrellisPluginHost

/// The router's time: the wall clock, and waits a cancellation ends early.
/// Tests give a clock of their own so cooldowns pass without sleeping.
public struct RouterClock: Sendable {
    /// Unix seconds.
    public var now: @Sendable () -> Double
    /// Waits `seconds`; false when `cancellation` ended the wait first.
    public var sleep: @Sendable (_ seconds: Double, _ cancellation: CancellationToken?) -> Bool

    public init(now: @escaping @Sendable () -> Double,
                sleep: @escaping @Sendable (_ seconds: Double, _ cancellation: CancellationToken?) -> Bool) {
        self.now = now
        self.sleep = sleep
    }

    public static let system = RouterClock(
        now: { Date().timeIntervalSince1970 },
        sleep: { seconds, cancellation in
            // In slices, so a cancelled call stops waiting within 10 ms.
            let end = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, seconds) * 1e9)
            while DispatchTime.now().uptimeNanoseconds < end {
                if cancellation?.isCancelled == true { return false }
                let left = Double(end - min(end, DispatchTime.now().uptimeNanoseconds)) / 1e9
                Thread.sleep(forTimeInterval: min(0.01, left))
            }
            return cancellation?.isCancelled != true
        })
}
