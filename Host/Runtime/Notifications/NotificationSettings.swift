import Foundation
import TrellisCore
import TrellisPluginHost

/// The deployment config's `notifications:` section: templates, recipients
/// with their channels and preferences, per-channel rate limits, and how
/// failed deliveries recover.
///
/// ```yaml
/// notifications:
///   templates:
///     build-failed:
///       category: builds
///       subject: "{{workflow}} failed"
///       text: "Step {{step}} failed: {{error}}"
///       channels: { channel.sms: { body: "{{workflow}} failed" } }
///   recipients:
///     alice:
///       time_zone: Europe/Berlin
///       quiet_hours: { start: "22:00", end: "07:00" }
///       opt_out: [marketing]
///       channels:                      # tried in order: failover
///         - { channel: channel.email, address: alice@example.com }
///         - { channel: channel.sms, address: "+15550001111" }
///   rate_limits: { channel.sms: { per_second: 1, burst: 5 } }
///   recovery: [{ uses: recovery.retry, with: { max_attempts: 3 } }]
///   digest_window: 10m
///   workers: 8
/// ```
public struct NotificationSettings: Sendable {
    public struct Route: Sendable, Equatable {
        public var channel: String
        /// A string or a list; nil for a channel bound to one destination.
        public var address: JSONValue?
    }

    public struct Recipient: Sendable {
        public var id: String
        public var channels: [Route]
        public var optOut: Set<String>
        public var quietHours: QuietHours?
    }

    public struct RateLimit: Sendable, Equatable {
        public var perSecond: Double
        public var burst: Double
    }

    public var templates: [String: NotificationTemplate] = [:]
    public var recipients: [String: Recipient] = [:]
    public var rateLimits: [String: RateLimit] = [:]
    /// nil: the deployment's `recovery_defaults.channel`.
    public var recovery: [RecoveryEntry]?
    public var digestWindowSeconds: Double = 300
    /// Deliveries in flight at once.
    public var workers = 8

    public init() {}

    /// Reads the section; every problem is reported with its place in the file.
    public static func parse(_ configuration: DeploymentConfiguration) throws(DeploymentConfigurationError) -> NotificationSettings {
        guard let root = configuration.notifications else { return NotificationSettings() }
        let file = configuration.file ?? "(deployment config)"
        func place(_ pointer: String) -> String { configuration.location(of: "/notifications" + pointer) }
        let violations = schema.validate(root)
        guard violations.isEmpty else {
            throw DeploymentConfigurationError(
                file: file, problems: violations.map { "\(place($0.path)): notifications\($0.path): \($0.message)" },
                remedy: "See docs/notifications.md for the notifications section")
        }
        var settings = NotificationSettings()
        var problems: [String] = []
        for (id, config) in root["templates"]?.objectValue ?? [:] {
            let pointer = "/templates/" + YAMLDocument.escape(id)
            do {
                settings.templates[id] = try NotificationTemplate(id: id, config: config)
            } catch {
                problems += error.problems.map { "\(place(pointer + $0.pointer)): template \(id): \($0.message)" }
            }
        }
        for (id, config) in root["recipients"]?.objectValue ?? [:] {
            let pointer = "/recipients/" + YAMLDocument.escape(id)
            let routes = (config["channels"]?.arrayValue ?? []).compactMap { route in
                route["channel"]?.stringValue.map { Route(channel: $0, address: route["address"]) }
            }
            var recipient = Recipient(id: id, channels: routes,
                                      optOut: Set((config["opt_out"]?.arrayValue ?? []).compactMap(\.stringValue)))
            let zoneName = config["time_zone"]?.stringValue ?? "UTC"
            guard let zone = TimeZone(identifier: zoneName) else {
                problems.append("\(place(pointer + "/time_zone")): '\(zoneName)' is not an IANA time zone (e.g. Europe/Berlin)")
                continue
            }
            if let quiet = config["quiet_hours"] {
                let start = quiet["start"]?.stringValue.flatMap(QuietHours.minutes)
                let end = quiet["end"]?.stringValue.flatMap(QuietHours.minutes)
                if let start, let end {
                    recipient.quietHours = QuietHours(start: start, end: end, timeZone: zone)
                } else {
                    problems.append("\(place(pointer + "/quiet_hours")): start and end are times of day, HH:MM (e.g. 22:00)")
                }
            }
            settings.recipients[id] = recipient
        }
        for (channel, limit) in root["rate_limits"]?.objectValue ?? [:] {
            let rate = limit["per_second"]?.doubleValue ?? (limit["per_minute"]?.doubleValue).map { $0 / 60 } ?? 0
            guard rate > 0 else {
                problems.append("\(place("/rate_limits/" + YAMLDocument.escape(channel))): give per_second or per_minute")
                continue
            }
            settings.rateLimits[channel] = RateLimit(perSecond: rate, burst: limit["burst"]?.doubleValue ?? max(1, rate))
        }
        if let entries = root["recovery"]?.arrayValue {
            settings.recovery = entries.compactMap { entry in
                entry["uses"]?.stringValue.map { RecoveryEntry(uses: $0, with: entry["with"] ?? .object([:])) }
            }
        }
        if let window = root["digest_window"] {
            if let seconds = window.durationSeconds, seconds > 0 {
                settings.digestWindowSeconds = seconds
            } else {
                problems.append("\(place("/digest_window")): '\(window.interpolated)' is not a duration (e.g. 10m)")
            }
        }
        if let workers = root["workers"]?.doubleValue { settings.workers = Int(workers) }
        guard problems.isEmpty else {
            throw DeploymentConfigurationError(file: file, problems: problems.sorted(),
                                               remedy: "See docs/notifications.md for the notifications section")
        }
        return settings
    }

    static let schema: JSONSchema = {
        let strings: JSONValue = ["type": "array", "items": ["type": "string", "minLength": 1]]
        let root: JSONValue = [
            "type": "object",
            "additionalProperties": false,
            "properties": [
                "templates": ["type": "object", "additionalProperties": [
                    "type": "object",
                    "properties": [
                        "category": ["type": "string", "minLength": 1],
                        "subject": ["type": "string"], "text": ["type": "string"], "html": ["type": "string"],
                        "channels": ["type": "object", "additionalProperties": ["type": "object"]],
                        "digest": ["type": "object", "additionalProperties": false, "properties": [
                            "subject": ["type": "string"], "text": ["type": "string"], "html": ["type": "string"],
                        ]],
                    ],
                    "additionalProperties": false,
                ]],
                "recipients": ["type": "object", "additionalProperties": [
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["channels"],
                    "properties": [
                        "time_zone": ["type": "string", "minLength": 1],
                        "quiet_hours": ["type": "object", "additionalProperties": false, "required": ["start", "end"],
                                        "properties": ["start": ["type": "string"], "end": ["type": "string"]]],
                        "opt_out": strings,
                        "channels": ["type": "array", "minItems": 1, "items": [
                            "type": "object", "additionalProperties": false, "required": ["channel"],
                            "properties": ["channel": ["type": "string", "minLength": 1],
                                           "address": ["type": ["string", "array"]]],
                        ]],
                    ],
                ]],
                "rate_limits": ["type": "object", "additionalProperties": [
                    "type": "object", "additionalProperties": false,
                    "properties": ["per_second": ["type": "number", "exclusiveMinimum": 0],
                                   "per_minute": ["type": "number", "exclusiveMinimum": 0],
                                   "burst": ["type": "integer", "minimum": 1]],
                ]],
                "recovery": ["type": "array", "items": [
                    "type": "object", "additionalProperties": false, "required": ["uses"],
                    "properties": ["uses": ["type": "string", "minLength": 1], "with": ["type": "object"]],
                ]],
                "digest_window": ["type": ["string", "number"]],
                "workers": ["type": "integer", "minimum": 1],
            ],
        ]
        // The schema is a constant written above; it is valid by construction.
        return try! JSONSchema(root)
    }()
}
