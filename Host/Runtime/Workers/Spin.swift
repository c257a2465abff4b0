import Foundation

/// Waits for `ready` by polling for at most `microseconds`, and says
/// whether it became true.
///
/// Parking a thread on a condition and waking it again costs two system
/// calls and a trip through the scheduler: tens of microseconds on a small
/// virtual machine, more than a short plugin call. A thread that expects
/// work within that time polls first and parks only when none comes.
func spin(forMicroseconds microseconds: UInt64, until ready: () -> Bool) -> Bool {
    let deadline = DispatchTime.now().uptimeNanoseconds + microseconds * 1000
    while true {
        for _ in 0..<64 where ready() { return true }
        if DispatchTime.now().uptimeNanoseconds >= deadline { return ready() }
    }
}
