/// What a run id may be, checked where ids enter (the CLI, later the API):
/// 1 to 128 letters, digits, `.`, `_`, `-` or `:`, starting with a letter or
/// a digit. So an id is safe in a file name, a URL path, a log line and an
/// idempotency key, and `..` or an empty id never gets in.
public enum RunID {
    public static let maximumLength = 128

    /// What is wrong with `id`, or nil when it is a valid run id.
    public static func problem(_ id: String) -> String? {
        guard !id.isEmpty else { return "a run id cannot be empty" }
        guard id.utf8.count <= maximumLength else { return "a run id is at most \(maximumLength) characters (this one has \(id.utf8.count))" }
        guard let first = id.utf8.first, isLetterOrDigit(first) else {
            return "a run id starts with a letter or a digit"
        }
        for byte in id.utf8 where !(isLetterOrDigit(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
                                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ":")) {
            return "a run id holds only letters, digits, '.', '_', '-' and ':' (not '\(Character(Unicode.Scalar(byte)))')"
        }
        if id.contains("..") { return "a run id cannot contain '..'" }
        return nil
    }

    private static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
