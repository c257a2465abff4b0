import TrellisJSON

/// What starts a workflow run.
public struct TriggerSpec: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A cron schedule in an IANA time zone.
        case cron(CronExpression, timeZone: String)
        /// Every so many seconds.
        case interval(seconds: Double)
        /// Once, at an instant (Unix seconds).
        case once(at: Double)
        /// When another workflow finishes.
        case after(workflow: String, on: AfterCondition)
        /// Only when asked (`trellis trigger`).
        case manual
    }

    public enum AfterCondition: String, Sendable, Hashable, CaseIterable {
        case success, failure, any
    }

    /// What to do about fire times missed while the host was down.
    public enum CatchUp: String, Sendable, Hashable, CaseIterable {
        case skip, latest, all
    }

    /// What to do when a run is due while the previous one is still going.
    public enum Overlap: String, Sendable, Hashable, CaseIterable {
        case skip, queue, allow
    }

    public var kind: Kind
    public var catchUp: CatchUp
    public var overlap: Overlap
    /// Inputs the trigger passes to the run.
    public var inputs: [String: JSONValue]

    public init(kind: Kind, catchUp: CatchUp = .skip, overlap: Overlap = .skip, inputs: [String: JSONValue] = [:]) {
        self.kind = kind
        self.catchUp = catchUp
        self.overlap = overlap
        self.inputs = inputs
    }
}
