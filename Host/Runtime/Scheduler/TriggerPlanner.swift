import Foundation
import TrellisCore

/// Decides when time-based triggers fire. Pure: it is given the time, so
/// the scheduler's tests control the clock.
public enum TriggerPlanner {
    /// The next fire time strictly after `time`, or nil (manual, after,
    /// or a one-time trigger already past).
    public static func next(_ trigger: TriggerSpec, after time: Double) -> Double? {
        switch trigger.kind {
        case .cron(let expression, let zone):
            guard let timeZone = TimeZone(identifier: zone) else { return nil }
            return expression.nextFire(after: Date(timeIntervalSince1970: time), in: timeZone)?.timeIntervalSince1970
        case .interval(let seconds):
            return time + seconds
        case .once(let instant):
            return instant > time ? instant : nil
        case .after, .manual:
            return nil
        }
    }

    /// The fire times due at `now`, given when the trigger last fired (nil:
    /// never, e.g. a new workflow, which starts counting from `now`). Missed
    /// fire times are handled by the trigger's catch-up policy: `skip` drops
    /// them (only a fire due right now runs), `latest` runs the most recent
    /// one, `all` runs each (at most `limit`).
    /// Returns the fires to start and the time to record as the last fire.
    public static func due(_ trigger: TriggerSpec, lastFire: Double?, now: Double,
                           limit: Int = 100) -> (fires: [Double], lastFire: Double?) {
        if case .once(let instant) = trigger.kind {
            guard lastFire == nil, instant <= now else { return ([], lastFire) }
            // A one-time trigger missed while down still runs, unless skipped.
            let fires = trigger.catchUp == .skip && now - instant > graceSeconds ? [] : [instant]
            return (fires, instant)
        }
        guard let lastFire else { return ([], now) }
        var missed: [Double] = []
        var cursor = lastFire
        while let next = next(trigger, after: cursor), next <= now {
            missed.append(next)
            cursor = next
            if missed.count > 100_000 { break }
        }
        guard let latest = missed.last else { return ([], lastFire) }
        switch trigger.catchUp {
        case .skip:
            // Only a fire time that is due now (not one missed while down).
            return (now - latest <= graceSeconds ? [latest] : [], latest)
        case .latest:
            return ([latest], latest)
        case .all:
            return (Array(missed.suffix(limit)), latest)
        }
    }

    /// A fire time this recent is "due now", not "missed".
    public static let graceSeconds: Double = 60
}
