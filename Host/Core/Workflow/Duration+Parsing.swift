/// Parses durations as workflow authors write them: `500ms`, `30s`, `5m`,
/// `1h`, `1h30m`, or a bare number of seconds. Returns seconds.
public func parseDuration(_ text: String) -> Double? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    if let seconds = Double(trimmed), seconds >= 0 { return seconds }
    var total = 0.0
    var number = ""
    var index = trimmed.startIndex
    var sawUnit = false
    while index < trimmed.endIndex {
        let character = trimmed[index]
        if character.isNumber || character == "." {
            number.append(character)
            index = trimmed.index(after: index)
            continue
        }
        var unit = ""
        while index < trimmed.endIndex, trimmed[index].isLetter {
            unit.append(trimmed[index])
            index = trimmed.index(after: index)
        }
        guard let value = Double(number) else { return nil }
        let scale: Double
        switch unit {
        case "ms": scale = 0.001
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3600
        case "d": scale = 86400
        default: return nil
        }
        total += value * scale
        number = ""
        sawUnit = true
    }
    return sawUnit && number.isEmpty ? total : nil
}

import Foundation
import TrellisJSON

extension JSONValue {
    /// A duration written as a number of seconds or as text (`30s`, `5m`).
    public var durationSeconds: Double? {
        doubleValue ?? stringValue.flatMap(parseDuration)
    }
}
