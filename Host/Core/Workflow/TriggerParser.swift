import Foundation
import TrellisJSON

/// Builds a ``TriggerSpec`` from its YAML form and reports what is wrong.
enum TriggerParser {
    static func parse(_ value: JSONValue, at pointer: String, document: YAMLDocument,
                      problems: inout [WorkflowProblem]) -> TriggerSpec? {
        let here = document.location(of: pointer)
        func problem(_ field: String, _ message: String) {
            problems.append(WorkflowProblem(document.location(of: "\(pointer)/\(field)"), message))
        }
        let kinds = ["cron", "interval", "at", "after", "manual"].filter { value[$0] != nil }
        guard kinds.count == 1 else {
            problems.append(WorkflowProblem(here, kinds.isEmpty
                ? "a trigger needs one of cron, interval, at, after or manual"
                : "a trigger has one kind, but this one has \(kinds.joined(separator: " and ")): split it into several triggers"))
            return nil
        }
        var kind: TriggerSpec.Kind
        switch kinds[0] {
        case "cron":
            let zone = value["timezone"]?.stringValue ?? "UTC"
            guard TimeZone(identifier: zone) != nil else {
                problem("timezone", "unknown time zone '\(zone)': use an IANA name such as Europe/Paris or America/New_York")
                return nil
            }
            do {
                kind = .cron(try CronExpression(value["cron"]?.stringValue ?? ""), timeZone: zone)
            } catch {
                problem("cron", "invalid cron expression: \(error.message)")
                return nil
            }
        case "interval":
            let raw = value["interval"]!
            guard let seconds = raw.durationSeconds, seconds > 0 else {
                problem("interval", "'\(raw.interpolated)' is not a positive duration; write e.g. 30s, 5m or 1h")
                return nil
            }
            kind = .interval(seconds: seconds)
        case "at":
            let text = value["at"]?.stringValue ?? ""
            guard let instant = ISO8601DateFormatter().date(from: text) else {
                problem("at", "'\(text)' is not an ISO 8601 instant with a zone, e.g. 2026-12-01T09:00:00Z")
                return nil
            }
            kind = .once(at: instant.timeIntervalSince1970)
        case "after":
            let condition = value["on"]?.stringValue.flatMap(TriggerSpec.AfterCondition.init) ?? .success
            kind = .after(workflow: value["after"]?.stringValue ?? "", on: condition)
        default:
            kind = .manual
        }
        return TriggerSpec(
            kind: kind,
            catchUp: value["catch_up"]?.stringValue.flatMap(TriggerSpec.CatchUp.init) ?? .skip,
            overlap: value["overlap"]?.stringValue.flatMap(TriggerSpec.Overlap.init) ?? .skip,
            inputs: value["inputs"]?.objectValue ?? [:])
    }
}
