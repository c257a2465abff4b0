/// A duration as people read it: `230 ms`, `4.2 s`, `3 min 5 s`.
public func formatDuration(_ seconds: Double) -> String {
    if seconds < 1 { return "\(Int((seconds * 1000).rounded())) ms" }
    if seconds < 60 {
        let tenths = (seconds * 10).rounded() / 10
        return tenths.rounded() == tenths ? "\(Int(tenths)) s" : "\(tenths) s"
    }
    return "\(Int(seconds) / 60) min \(Int(seconds) % 60) s"
}
