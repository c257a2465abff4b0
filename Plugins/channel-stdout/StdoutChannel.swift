import Foundation
import Synchronization
import TrellisSDK

/// Writes each message as one JSON line to standard output or to a file.
/// The line carries the idempotency key, so a reader can drop repeats.
struct StdoutChannel: ChannelPlugin {
    struct Configuration: Decodable {
        /// Append to this file instead of standard output.
        var path: String?
        /// Prefix every line's `channel` field with this label.
        var label: String?
    }

    /// Any JSON: the channel writes the message as it came.
    typealias Message = JSON

    static let id = "channel.stdout"
    static let version = "1.0.0"
    static let summary = "Writes messages as JSON lines to standard output or a file."

    let label: String
    let output: LineWriter

    init(configuration: Configuration, host: TrellisHost) throws {
        label = configuration.label ?? Self.id
        output = try LineWriter(path: configuration.path)
    }

    static func validate(configuration: Configuration) throws {
        if let path = configuration.path, path.isEmpty {
            throw PluginError.config("`path` is empty: give a file path, or leave it out to write to standard output")
        }
    }

    func send(_ message: Message, context: CallContext) throws -> DeliveryReceipt {
        let line = Line(channel: label, idempotencyKey: context.idempotencyKey, runId: context.runID,
                        stepId: context.stepID, message: message)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var bytes = try encoder.encode(line)
        bytes.append(UInt8(ascii: "\n"))
        try output.write(bytes)
        let id = context.idempotencyKey.isEmpty ? UUID().uuidString.lowercased() : context.idempotencyKey
        return DeliveryReceipt(id: id, status: .delivered, detail: ["destination": output.destination])
    }

    private struct Line: Encodable {
        var channel: String
        var idempotencyKey: String
        var runId: String
        var stepId: String
        var message: JSON

        enum CodingKeys: String, CodingKey {
            case channel, message
            case idempotencyKey = "idempotency_key"
            case runId = "run_id"
            case stepId = "step_id"
        }
    }
}

/// Appends whole lines to a file descriptor; one write per line, serialized.
final class LineWriter: Sendable {
    let destination: String
    private let descriptor: Mutex<Int32>

    init(path: String?) throws {
        guard let path else {
            destination = "stdout"
            descriptor = Mutex(STDOUT_FILENO)
            return
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw PluginError.config("cannot open '\(path)' for appending: \(String(cString: strerror(errno)))")
        }
        destination = path
        descriptor = Mutex(fd)
    }

    func write(_ bytes: Data) throws {
        try descriptor.withLock { fd in
            try bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw PluginError.retryable("writing to \(destination) failed: \(String(cString: strerror(errno)))")
                    }
                    offset += written
                }
            }
        }
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(StdoutChannel.self) }
