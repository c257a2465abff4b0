import Foundation

/// Ids for records the host creates (runs, notifications): a prefix, the
/// creation time in milliseconds and 40 random bits, both in base 36, so
/// ids sort roughly by age and two processes do not collide. Cheaper than
/// a UUID, which reads the kernel's random device each time.
enum RecordID {
    static func make(_ prefix: String) -> String {
        let time = String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36)
        let random = String(UInt64.random(in: 0..<(1 << 40)), radix: 36)
        return "\(prefix)-\(time)-\(random)"
    }
}
