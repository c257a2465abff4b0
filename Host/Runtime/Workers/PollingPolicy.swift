import Dispatch

/// Whether an idle thread should poll before it parks.
///
/// Polling pays when work comes back within the window, as in a chain of
/// steps, and wastes a core when it comes in bursts further apart, as in a
/// wide fan (there it took a third of the CPU on two cores). So each poll
/// that catches work raises a score and each that does not lowers it; below
/// zero, threads park at once, and poll again only after a while, to notice
/// when the pattern changes.
struct PollingPolicy {
    let microseconds: UInt64
    private var score = 0
    private var lastPoll: UInt64 = 0
    /// How long polling stays off after it stopped paying.
    private static let retryNanoseconds: UInt64 = 5_000_000

    init(microseconds: UInt64) {
        self.microseconds = microseconds
    }

    mutating func shouldPoll() -> Bool {
        guard microseconds > 0 else { return false }
        let now = DispatchTime.now().uptimeNanoseconds
        guard score >= 0 || now - lastPoll > Self.retryNanoseconds else { return false }
        lastPoll = now
        return true
    }

    /// A catch turns polling back on at once (work has started to come back
    /// quickly); misses turn it off after as many as there were catches
    /// before them, up to four.
    mutating func polled(caughtWork: Bool) {
        score = caughtWork ? min(max(score, 0) + 1, 4) : max(score - 1, -1)
    }
}
