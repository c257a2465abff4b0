import ArgumentParser
import Foundation
import TrellisCore
import TrellisRuntime
import TrellisStore

struct Notify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send a templated notification to recipients through the notification service.",
        discussion: """
            Recipients, templates and channels come from the deployment config's `notifications:` \
            section (docs/notifications.md). The message is queued in the store and what is due is \
            delivered before the command returns; a message held by quiet hours, a digest window or \
            a retry stays queued for `trellis serve`. Exits 1 when a delivery failed on every channel.
            """)

    @OptionGroup var options: Runs.StoreOptions
    @Option(name: .customLong("to"), help: ArgumentHelp("A recipient (repeatable).", valueName: "recipient"))
    var recipients: [String] = []
    @Option(help: ArgumentHelp("The template's name.", valueName: "name")) var template: String
    @Option(name: .customLong("var"), help: ArgumentHelp("A template variable; the value is JSON when it parses as JSON (repeatable).",
                                                         valueName: "name=value"))
    var variables: [String] = []
    @Option(help: "low, normal, high or critical (critical passes quiet hours).") var priority: String = "normal"
    @Option(help: ArgumentHelp("Join messages with this key to the same recipient into one digest.", valueName: "key"))
    var digestKey: String?
    @Option(help: ArgumentHelp("How long a digest collects (default: the config's digest_window).", valueName: "duration"))
    var digestWindow: String?
    @Flag(help: "Print the messages as JSON.") var json = false

    func run() throws {
        let (setup, store) = try options.open()
        var values: [String: JSONValue] = [:]
        for pair in variables {
            guard let equals = pair.firstIndex(of: "=") else { throw ValidationError("--var \(pair): write it as name=value") }
            let text = String(pair[pair.index(after: equals)...])
            values[String(pair[..<equals])] = (try? JSONValue(json: Data(text.utf8))) ?? .string(text)
        }
        var with: [String: JSONValue] = ["to": .array(recipients.map(JSONValue.string)), "template": .string(template),
                                         "vars": .object(values), "priority": .string(priority)]
        with["digest_key"] = digestKey.map(JSONValue.string)
        with["digest_window"] = digestWindow.map(JSONValue.string)
        let request: NotificationRequest
        do {
            request = try NotificationRequest(step: .object(with), source: "cli", key: nil)
        } catch {
            throw ValidationError(error.description)
        }
        guard let service = try setup.startNotifications(store: store, mode: .transient) else {
            throw ValidationError("the deployment config has no notifications: recipients; see docs/notifications.md")
        }
        let ids: [String]
        do {
            ids = try service.send(request)
        } catch let error as NotificationError {
            service.stop()
            for problem in error.problems { warn("error: \(problem)") }
            throw ExitCode(1)
        }
        service.finish()
        let records = try ids.compactMap { try store.notification($0) }
        if json {
            try printJSON(try records.map { try NotificationSummary($0, deliveries: store.deliveries(notification: $0.id)) })
        } else {
            for record in records { print(try describe(record, deliveries: store.deliveries(notification: record.id))) }
        }
        if records.contains(where: { $0.state == .failed }) { throw ExitCode(1) }
    }
}

/// One line about a message and where its delivery stands.
func describe(_ record: NotificationRecord, deliveries: [DeliveryRecord]) -> String {
    let last = deliveries.last
    let head = "\(record.id) → \(record.recipient): "
    switch record.state {
    case .delivered, .sent:
        return head + "\(record.state.rawValue) via \(last?.channel ?? "?")" + (last?.providerID.map { " (id \($0))" } ?? "")
    case .failed:
        return head + "failed: \(record.reason ?? "unknown")"
    case .skipped:
        return head + "skipped: \(record.reason ?? "")"
    case .digesting:
        return head + "collecting a digest until \(clockTime(record.releaseAt ?? record.createdAt)); `trellis serve` sends it"
    case .digested:
        return head + "joined digest \(record.digestOf ?? "?")"
    case .queued:
        guard let last else { return head + "queued" }
        let why = last.attempts > 0 ? "retrying after \(last.error ?? "a failure")" : "held by quiet hours or a rate limit"
        return head + "queued until \(clockTime(last.notBefore)) (\(why)); `trellis serve` delivers it"
    }
}

struct NotificationSummary: Encodable {
    struct Delivery: Encodable {
        var id, channel, state: String
        var attempts: Int
        var provider_id, error_class, error: String?
        var not_before, updated_at: Double
        var message: JSONValue
    }

    var id, recipient, template, priority, state, source: String
    var category, reason, digest_key, digest_of: String?
    var created_at, updated_at: Double
    var variables: JSONValue
    var deliveries: [Delivery]

    init(_ record: NotificationRecord, deliveries: [DeliveryRecord]) {
        id = record.id
        recipient = record.recipient
        template = record.template
        priority = record.priority.rawValue
        state = record.state.rawValue
        source = record.source
        category = record.category
        reason = record.reason
        digest_key = record.digestKey
        digest_of = record.digestOf
        created_at = record.createdAt
        updated_at = record.updatedAt
        variables = record.variables
        self.deliveries = deliveries.map {
            Delivery(id: $0.id, channel: $0.channel, state: $0.state.rawValue, attempts: $0.attempts, provider_id: $0.providerID,
                     error_class: $0.errorClass, error: $0.error, not_before: $0.notBefore, updated_at: $0.updatedAt, message: $0.message)
        }
    }
}

struct Notifications: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and inspect notifications and their deliveries.", subcommands: [List.self, Show.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List recent notifications, newest first.")
        @OptionGroup var options: Runs.StoreOptions
        @Option(help: ArgumentHelp("Only those in this state (queued, digesting, digested, sent, delivered, failed, skipped).",
                                   valueName: "state"))
        var state: String?
        @Option(help: "How many to show.") var limit = 20

        func validate() throws {
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1, not \(limit)") }
        }
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let (_, store) = try options.open()
            let records = try store.notifications(limit: limit, state: state)
            if json {
                try printJSON(try records.map { try NotificationSummary($0, deliveries: store.deliveries(notification: $0.id)) })
                return
            }
            guard !records.isEmpty else {
                print("No notifications\(state.map { " in state \($0)" } ?? "") in \(store.path).")
                return
            }
            printColumns(header: ["ID", "RECIPIENT", "TEMPLATE", "PRIORITY", "STATE", "CHANNEL", "QUEUED", "SOURCE"],
                         rows: try records.map { record in
                let last = try store.deliveries(notification: record.id).last
                return [record.id, record.recipient, record.template, record.priority.rawValue, record.state.rawValue,
                        last?.channel ?? "-", clockTime(record.createdAt), record.source]
            })
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a notification: its variables and each delivery's channel, state, attempts, provider id and error.")
        @OptionGroup var options: Runs.StoreOptions
        @Argument(help: ArgumentHelp("The notification id.", valueName: "id")) var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let (_, store) = try options.open()
            guard let record = try store.notification(id) else {
                throw ValidationError("no notification \(id) in \(store.path); `trellis notifications list` shows the recent ones")
            }
            let deliveries = try store.deliveries(notification: id)
            if json {
                try printJSON(NotificationSummary(record, deliveries: deliveries))
                return
            }
            print(describe(record, deliveries: deliveries))
            print("  template \(record.template)\(record.category.map { " (category \($0))" } ?? ""), priority \(record.priority.rawValue), "
                  + "from \(record.source), queued \(clockTime(record.createdAt))")
            if let key = record.digestKey { print("  digest key \(key)") }
            for members in [try store.digestMembers(of: id)] where !members.isEmpty {
                print("  digest of \(members.count + 1) messages: \(([record] + members).map(\.id).joined(separator: ", "))")
            }
            for delivery in deliveries {
                var line = "  \(delivery.channel): \(delivery.state.rawValue) after \(delivery.attempts) attempt\(delivery.attempts == 1 ? "" : "s")"
                if let provider = delivery.providerID { line += ", id \(provider)" }
                if let error = delivery.error { line += " — \(delivery.errorClass ?? "error"): \(error)" }
                if delivery.state == .queued { line += ", not before \(clockTime(delivery.notBefore))" }
                print(line)
            }
        }
    }
}
