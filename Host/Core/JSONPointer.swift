import TrellisJSON

/// JSON Pointer (RFC 6901) tokens: `~` is written `~0` and `/` is `~1`.
/// One place for both directions; keys without either (nearly all) are
/// returned as they are, without a copy.
public enum JSONPointer {
    public static func escape(_ key: String) -> String {
        guard key.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return key }
        var escaped = ""
        escaped.reserveCapacity(key.utf8.count + 2)
        for character in key {
            switch character {
            case "~": escaped += "~0"
            case "/": escaped += "~1"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    public static func unescape<S: StringProtocol>(_ token: S) -> String {
        guard token.utf8.contains(UInt8(ascii: "~")) else { return String(token) }
        var result = ""
        var tilde = false
        for character in token {
            if tilde {
                result.append(character == "1" ? "/" : character == "0" ? "~" : character)
                tilde = false
            } else if character == "~" {
                tilde = true
            } else {
                result.append(character)
            }
        }
        if tilde { result.append("~") }
        return result
    }
}
