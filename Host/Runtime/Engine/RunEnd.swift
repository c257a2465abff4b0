import Foundation
import TrellisCore
import TrellisStore

/// How waiting for a run ended.
public enum RunEnd: Sendable {
    /// It succeeded, failed or was cancelled.
    case finished(RunState)
    /// A drain stopped it; it resumes on the next start.
    case interrupted(RunState)
    /// This process stopped executing it without finishing it: another
    /// process took its lease over, or its events could not be recorded.
    case lost(runID: String, reason: String)
}

/// A run another live process executes: this one may not.
public struct RunHeldElsewhere: Error, Sendable, CustomStringConvertible {
    public var runID: String
    public var holder: LeaseHolder

    public init(runID: String, holder: LeaseHolder) {
        self.runID = runID
        self.holder = holder
    }

    public var description: String {
        let left = max(0, holder.expires - Date().timeIntervalSince1970)
        return "run \(runID) is being executed by another process (\(holder)); wait for it to finish, "
            + "or stop that process: its lease runs out \(Int(left.rounded(.up))) s from now unless it renews it, "
            + "and at once when the process is gone (on this machine)"
    }
}

/// A run whose recorded workflow is sound but asks for what this
/// deployment does not offer now (a plugin not enabled or not loaded, a
/// secret, a model group): it is left as it was, for a host that can.
public struct RunCannotResumeHere: Error, Sendable, CustomStringConvertible {
    public var runID: String
    public var problems: [String]

    public init(runID: String, problems: [String]) {
        self.runID = runID
        self.problems = problems
    }

    public var description: String {
        "run \(runID) cannot resume in this deployment, and was left as it was:\n"
            + problems.map { "  - \($0)" }.joined(separator: "\n")
            + "\nFix the deployment config (enable or install what is missing), then run `trellis runs resume \(runID)`"
    }
}
