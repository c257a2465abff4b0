import Foundation
import Synchronization
import TrellisCore

/// Shows a run's progress: a live table on a terminal, one line per event
/// otherwise, or JSON lines with `--json`. Called on the engine thread.
final class RunProgress: Sendable {
    enum Mode { case live, lines, json }

    let mode: Mode
    private let state = Mutex<Display>(Display())
    /// The first error writing to standard output (nil: none). After one,
    /// nothing more is written: a closed pipe (`trellis run … | head -1`)
    /// ends the display, never the run.
    private let failure = Mutex<Int32?>(nil)

    /// Why standard output could not be written, when it could not and the
    /// reason is not that its reader went away (a full disk is an error; a
    /// closed pipe is not).
    var outputError: String? {
        failure.withLock { code in code.flatMap { $0 == EPIPE ? nil : String(cString: strerror($0)) } }
    }

    struct Display {
        var latest: RunState?
        var lastDraw: Double = 0
        var drawnLines = 0
        var started: [String: Double] = [:]
    }

    init(json: Bool) {
        mode = json ? .json : isatty(STDOUT_FILENO) == 1 ? .live : .lines
    }

    func handle(_ runID: String, _ event: RunEvent, _ run: RunState) {
        let now = Date().timeIntervalSince1970
        switch mode {
        case .json:
            var line: [String: JSONValue] = ["run_id": .string(runID), "type": .string(event.type), "data": event.data,
                                             "at": .number((now * 1000).rounded() / 1000)]
            if case .runQueued = event { line["data"] = event.data.removing("source") }
            emit(JSONValue.object(line).jsonString())
        case .lines:
            if let text = describe(event, run) { emit("\(timestamp(now))  \(text)") }
        case .live:
            state.withLock { display in
                display.latest = run
                if now - display.lastDraw >= 0.1 || isFinal(event) {
                    display.lastDraw = now
                    draw(run, &display)
                }
            }
        }
    }

    private func isFinal(_ event: RunEvent) -> Bool {
        switch event {
        case .runFinished, .runInterrupted: true
        default: false
        }
    }

    private func emit(_ line: String) {
        write(line + "\n")
    }

    /// Writes to standard output (unbuffered) unless an earlier write failed.
    private func write(_ text: String) {
        failure.withLock { code in
            guard code == nil else { return }
            var text = text
            text.withUTF8 { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Foundation.write(STDOUT_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        code = errno
                        return
                    }
                    offset += written
                }
            }
        }
    }

    /// Made once: a formatter is costly to build, and a run prints a line per event.
    private let clock: DateFormatter = {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss.SSS"
        return formatter
    }()

    private func timestamp(_ time: Double) -> String {
        clock.string(from: Date(timeIntervalSince1970: time))
    }

    private func describe(_ event: RunEvent, _ run: RunState) -> String? {
        switch event {
        case .runQueued(let queued): return "run \(run.id) of \(queued.workflow) queued (\(queued.steps.count) steps)"
        case .runStarted: return "run \(run.id) started"
        case .stepStarted(let step, let attempt, _, _):
            return "step \(step) started" + (attempt > 1 ? " (attempt \(attempt))" : "")
        case .stepAttemptFailed(let step, let attempt, let errorClass, let message, _, _):
            return "step \(step) attempt \(attempt) failed (\(errorClass.rawValue)): \(message)"
        case .recoveryDecided(let step, _, let strategy, let decision, let delay, _):
            return "step \(step): \(strategy) decided \(decision)" + (delay > 0 ? " in \(delay) ms" : "")
        case .stepSucceeded(let step, _, _, let fromCache, let quality, let staleAge):
            var text = "step \(step) succeeded"
            if let elapsed = elapsed(run.steps[step]) { text += " in \(elapsed)" }
            if let staleAge {
                text += " (stale output from \(formatDuration(Double(staleAge) / 1000)) ago)"
            } else if fromCache {
                text += " (from cache)"
            }
            if let quality { text += " (degraded, quality \(quality))" }
            return text
        case .stepSkipped(let step, let reason): return "step \(step) skipped: \(reason)"
        case .stepFailed(let step, let errorClass, let message): return "step \(step) failed (\(errorClass.rawValue)): \(message)"
        case .stepInterrupted(let step, _): return "step \(step) interrupted"
        case .cancelRequested(let reason): return "cancel requested: \(reason)"
        case .runFinished(let status, let message):
            return "run \(run.id) \(status.rawValue) in \(formatDuration(run.updatedAt - run.createdAt))"
                + (message.map { ": \($0)" } ?? "")
        case .runInterrupted: return "run \(run.id) interrupted; resume it with `trellis runs resume \(run.id)`"
        }
    }

    private func elapsed(_ step: StepState?) -> String? {
        guard let start = step?.startedAt, let end = step?.finishedAt else { return nil }
        return formatDuration(end - start)
    }

    /// Redraws the live table in place.
    private func draw(_ run: RunState, _ display: inout Display) {
        var lines: [String] = []
        let steps = run.steps.values.sorted { ($0.startedAt ?? .infinity, $0.id) < ($1.startedAt ?? .infinity, $1.id) }
        let counts = Dictionary(grouping: steps, by: \.status).mapValues(\.count)
        let waiting = (counts[.pending] ?? 0) + (counts[.retrying] ?? 0)
        lines.append("\(run.workflow) · run \(run.id) · \(run.status.rawValue) · \(formatDuration(max(0, Date().timeIntervalSince1970 - run.createdAt)))")
        lines.append("  waiting \(waiting)  running \(counts[.running] ?? 0)  done \((counts[.succeeded] ?? 0) + (counts[.skipped] ?? 0))  failed \(counts[.failed] ?? 0)")
        let shown = steps.filter { $0.status == .running || $0.status == .failed || $0.status == .retrying }.prefix(12)
            + steps.filter { $0.status == .succeeded }.suffix(run.status.isFinished ? 8 : 4)
        for step in shown {
            let symbol = switch step.status {
            case .succeeded: "✓"
            case .failed: "✗"
            case .running: "▶"
            case .retrying: "↻"
            default: "·"
            }
            var line = "  \(symbol) \(step.id.padding(toLength: max(12, step.id.count), withPad: " ", startingAt: 0))  \(step.status.rawValue)"
            if step.attempts > 1 { line += "  attempt \(step.attempts)" }
            if let start = step.startedAt { line += "  \(formatDuration((step.finishedAt ?? Date().timeIntervalSince1970) - start))" }
            if step.status == .failed, let error = step.lastError { line += "  \(error.message)" }
            lines.append(line)
        }
        var output = display.drawnLines > 0 ? "\u{1B}[\(display.drawnLines)A" : ""
        for line in lines { output += "\u{1B}[2K" + line + "\n" }
        for _ in lines.count..<max(lines.count, display.drawnLines) { output += "\u{1B}[2K\n" }
        display.drawnLines = max(lines.count, display.drawnLines)
        write(output)
    }
}

extension JSONValue {
    func removing(_ key: String) -> JSONValue {
        guard case .object(var object) = self else { return self }
        object.removeValue(forKey: key)
        return .object(object)
    }
}
