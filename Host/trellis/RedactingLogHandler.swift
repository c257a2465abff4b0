import Logging
import TrellisCore

/// Wraps the process's log handler so that no log line shows a secret: the
/// message and every metadata value pass through the one redactor.
struct RedactingLogHandler: LogHandler {
    var base: any LogHandler

    var logLevel: Logger.Level {
        get { base.logLevel }
        set { base.logLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { base.metadata }
        set { base.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { base[metadataKey: key] }
        set { base[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        event.message = "\(Redactor.shared.redact(event.message.description))"
        event.metadata = event.metadata.map { $0.mapValues(Self.redact) }
        base.log(event: event)
    }

    private static func redact(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let text): .string(Redactor.shared.redact(text))
        case .stringConvertible(let convertible): .string(Redactor.shared.redact(convertible.description))
        case .array(let values): .array(values.map(redact))
        case .dictionary(let values): .dictionary(values.mapValues(redact))
        }
    }
}
