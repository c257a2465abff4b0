/// The bounds every YAML document is read within, so that no file can
/// crash, hang or exhaust the host: its size, how deeply it nests (checked
/// before the parser sees it: the parser recurses once per level), and how
/// many values it expands to (an alias repeats what it names, and aliases of
/// aliases multiply: a 425-byte file can stand for billions of values).
public struct YAMLLimits: Sendable {
    /// Bytes of text.
    public var maximumBytes = 16 * 1024 * 1024
    /// Levels of nested mappings and sequences, block and flow together.
    public var maximumDepth = 128
    /// Values after aliases are expanded.
    public var maximumValues = 1_000_000

    public init() {}

    public static let standard = YAMLLimits()

    /// Where the text nests deeper than `maximumDepth`, if it does. A
    /// conservative scan of the text, linear in its length: block levels
    /// from indentation and `- ` entries, flow levels from brackets and
    /// braces outside quotes and comments.
    func depthProblem(in text: String, file: String) -> YAMLError? {
        // The columns of the block levels open above the current line: a
        // "- " opens a sequence level at its column, the content after it a
        // level at its own column; a line closes every level at or right of
        // its first column.
        var columns: [Int] = []
        var flow = 0
        var quote: UInt8? = nil
        var line = 1
        var column = 0
        var lineStart = true
        var dashColumns: [Int] = []
        var inComment = false
        var previous: UInt8 = 0x0A
        /// The last byte that was not a space on this line (a newline at its start).
        var lastSignificant: UInt8 = 0x0A
        var bytes = text.utf8.makeIterator()
        func tooDeep(_ depth: Int) -> YAMLError {
            YAMLError(location: SourceLocation(file: file, line: line, column: max(1, column)),
                      message: "nested \(depth) levels deep, deeper than the limit of \(maximumDepth)")
        }
        while let byte = bytes.next() {
            column += 1
            if byte == 0x0A {
                line += 1
                column = 0
                lineStart = true
                dashColumns.removeAll(keepingCapacity: true)
                inComment = false
                previous = byte
                if quote == nil { lastSignificant = byte }
                continue
            }
            if inComment { previous = byte; continue }
            if let open = quote {
                if byte == open && !(open == UInt8(ascii: "\"") && previous == UInt8(ascii: "\\")) { quote = nil }
                previous = (previous == UInt8(ascii: "\\") && byte == UInt8(ascii: "\\")) ? 0 : byte
                continue
            }
            if lineStart {
                if byte == UInt8(ascii: " ") { previous = byte; continue }
                if byte == UInt8(ascii: "-") && flow == 0 {
                    var lookahead = bytes
                    let next = lookahead.next()
                    if next == UInt8(ascii: " ") || next == 0x0A || next == nil {
                        dashColumns.append(column - 1)
                        previous = byte
                        continue
                    }
                }
                lineStart = false
                if byte == UInt8(ascii: "#") { inComment = true; previous = byte; continue }
                if flow == 0 {
                    let first = dashColumns.first ?? (column - 1)
                    while let last = columns.last, last >= first { columns.removeLast() }
                    columns.append(contentsOf: dashColumns)
                    columns.append(column - 1)
                    if columns.count > maximumDepth { return tooDeep(columns.count) }
                }
            }
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                // A quote opens a scalar only where a scalar may start: right
                // after a flow indicator, or after a space that follows one
                // (or `: `, `- `, `? `), or first on its line. Anywhere else it
                // is part of a plain scalar, and brackets after it still count.
                let starts: Set<UInt8> = [UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: ",")]
                let afterSpace: Set<UInt8> = [UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: ","), UInt8(ascii: ":"),
                                              UInt8(ascii: "-"), UInt8(ascii: "?"), 0x0A]
                if starts.contains(previous) || previous == 0x0A
                    || ((previous == UInt8(ascii: " ") || previous == UInt8(ascii: "\t")) && afterSpace.contains(lastSignificant)) {
                    quote = byte
                }
            case UInt8(ascii: "#") where previous == UInt8(ascii: " ") || previous == UInt8(ascii: "\t"):
                inComment = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                flow += 1
                if columns.count + flow > maximumDepth { return tooDeep(columns.count + flow) }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                flow = max(0, flow - 1)
            default:
                break
            }
            previous = byte
            if byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\t") { lastSignificant = byte }
        }
        return nil
    }
}
