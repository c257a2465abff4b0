import Foundation

/// What LeakSanitizer found in a process that ran a plugin, narrowed to the
/// leaks a plugin library's own code allocated (a frame in the library on
/// the allocation's stack), so that the host's and the runtime's own
/// allocations never count against the plugin.
///
/// The process is run with Debian's standalone LeakSanitizer runtime
/// (`liblsan0`) preloaded and `options` in `LSAN_OPTIONS`; the report it
/// writes to standard error at exit is what `parse` reads.
public struct LeakReport: Sendable {
    public struct Leak: Sendable, Equatable {
        public var bytes: Int
        public var objects: Int
        /// Unreachable itself (direct), or only through another leak (indirect).
        public var direct: Bool
        /// The plugin's innermost frame: function, module and offset, and source when known.
        public var frame: String
    }

    public var leaks: [Leak]

    /// The preloadable runtime, where one is installed.
    public static var runtime: String? {
        ["/usr/lib/x86_64-linux-gnu/liblsan.so.0", "/usr/lib/aarch64-linux-gnu/liblsan.so.0", "/usr/lib64/liblsan.so.0"]
            .first { FileManager.default.isReadableFile(atPath: $0) }
    }

    /// The exit status the checked process ends with when it leaked.
    public static let leakExitCode: Int32 = 23

    /// `LSAN_OPTIONS`: the slow unwinder (plugins built without frame
    /// pointers still show their frames), and frames written with their
    /// module, so a leak can be told apart by library.
    public static let options = "fast_unwind_on_malloc=0:exitcode=\(leakExitCode):"
        + "stack_trace_format=\"    #%n [%m+%o] %f %S\""

    /// Reads a report; `library` is the plugin's path.
    public static func parse(_ text: String, library: String) -> LeakReport {
        let target = URL(fileURLWithPath: library).resolvingSymlinksInPath().path
        var leaks: [Leak] = []
        var current: Leak?
        var attributed = false
        func finish() {
            if let leak = current, attributed { leaks.append(leak) }
            current = nil
            attributed = false
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("Direct leak of ") || trimmed.hasPrefix("Indirect leak of ") {
                finish()
                let numbers = trimmed.split(separator: " ").compactMap { Int($0) }
                current = Leak(bytes: numbers.first ?? 0, objects: numbers.dropFirst().first ?? 0,
                               direct: trimmed.hasPrefix("Direct"), frame: "")
                continue
            }
            guard current != nil, trimmed.hasPrefix("#"), !attributed else {
                if current != nil, trimmed.isEmpty { finish() }
                continue
            }
            // `#1 [/path/lib.so+0x11ad] send <null>`
            guard let open = trimmed.firstIndex(of: "["), let close = trimmed.firstIndex(of: "]"), open < close else { continue }
            let location = trimmed[trimmed.index(after: open)..<close]
            guard let plus = location.lastIndex(of: "+") else { continue }
            let module = URL(fileURLWithPath: String(location[..<plus])).resolvingSymlinksInPath().path
            guard module == target else { continue }
            let rest = trimmed[trimmed.index(after: close)...].split(separator: " ").map(String.init)
            let function = rest.first ?? "?"
            let source = rest.dropFirst().first.flatMap { $0 == "<null>" ? nil : $0 }
            current?.frame = "\(function) (\(URL(fileURLWithPath: module).lastPathComponent)+\(location[location.index(after: plus)...]))"
                + (source.map { " at \($0)" } ?? "")
            attributed = true
        }
        finish()
        return LeakReport(leaks: leaks)
    }
}
