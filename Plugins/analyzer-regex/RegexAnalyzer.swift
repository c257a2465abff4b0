import CPCRE2
import TrellisSDK
import TrellisTextAnalysis

/// Tokens by a PCRE2 pattern (UTF-8, Unicode properties on): as a
/// tokenizer, each match is a token (`tokenize: matches`, the default; the
/// first capture group when the pattern has one) or the text between
/// matches is (`tokenize: gaps`); as a filter, it keeps the tokens the
/// pattern matches (`filter: keep`, the default), drops them (`drop`), or
/// replaces every match inside each token (`replace`, with `replacement`;
/// a token left empty is dropped). A match that would take more than the
/// match limit fails the call instead of hanging it.
struct RegexAnalyzer: AnalyzerPlugin {
    struct Configuration: Decodable {
        var pattern: String
        var tokenize: String?
        var filter: String?
        var replacement: String?
        var matchLimit: UInt32?

        enum CodingKeys: String, CodingKey {
            case pattern, tokenize, filter, replacement
            case matchLimit = "match_limit"
        }
    }

    static let id = "analyzer.regex"
    static let version = "1.0.0"
    static let summary = "Tokens by a PCRE2 pattern, or a PCRE2 filter that keeps, drops or replaces tokens."
    static let isTokenFilter = true

    let regex: CompiledPattern
    let splitsOnGaps: Bool
    let filterMode: String
    let replacement: [UInt8]

    init(configuration: Configuration, host: TrellisHost) throws {
        regex = try CompiledPattern(configuration.pattern, matchLimit: configuration.matchLimit ?? 1_000_000)
        switch configuration.tokenize ?? "matches" {
        case "matches": splitsOnGaps = false
        case "gaps": splitsOnGaps = true
        case let other: throw PluginError.config("tokenize is matches or gaps, not '\(other)'")
        }
        filterMode = configuration.filter ?? "keep"
        guard ["keep", "drop", "replace"].contains(filterMode) else {
            throw PluginError.config("filter is keep, drop or replace, not '\(filterMode)'")
        }
        replacement = Array((configuration.replacement ?? "").utf8)
    }

    func tokenize(_ text: UnsafeBufferPointer<UInt8>, into sink: inout TokenSink) throws {
        var position = 0
        var gapStart = 0
        var stopped = false
        try regex.matches(in: text) { match, group in
            if splitsOnGaps {
                if match.lowerBound > gapStart {
                    stopped = !sink.emit(UnsafeBufferPointer(rebasing: text[gapStart..<match.lowerBound]), position: position,
                                         bytes: gapStart..<match.lowerBound)
                    position += 1
                }
                gapStart = match.upperBound
            } else {
                let range = group ?? match
                if !range.isEmpty {
                    stopped = !sink.emit(UnsafeBufferPointer(rebasing: text[range]), position: position, bytes: range)
                    position += 1
                }
            }
            return !stopped
        }
        if splitsOnGaps, !stopped, gapStart < text.count {
            sink.emit(UnsafeBufferPointer(rebasing: text[gapStart...]), position: position, bytes: gapStart..<text.count)
        }
    }

    func filter(_ tokens: InputTokens, text: UnsafeBufferPointer<UInt8>, into sink: inout TokenSink) throws {
        for token in tokens {
            switch filterMode {
            case "keep", "drop":
                let matches = try regex.firstMatch(in: token.term) != nil
                if matches == (filterMode == "keep") { guard sink.emit(token) else { return } }
            default:
                var output: [UInt8] = []
                var copied = 0
                try regex.matches(in: token.term) { match, _ in
                    output.append(contentsOf: token.term[copied..<match.lowerBound])
                    output.append(contentsOf: replacement)
                    copied = match.upperBound
                    return true
                }
                output.append(contentsOf: token.term[copied...])
                if output.isEmpty { continue }
                let more = output.withUnsafeBufferPointer { sink.emit($0, position: token.position, bytes: token.bytes) }
                guard more else { return }
            }
        }
    }
}

/// A compiled PCRE2 pattern, shared by every call (PCRE2's compiled code is
/// read-only while matching; each call has its own match data).
final class CompiledPattern: @unchecked Sendable {
    let code: OpaquePointer
    let context: OpaquePointer?
    let hasGroup: Bool

    init(_ pattern: String, matchLimit: UInt32) throws {
        var errorCode: Int32 = 0
        var errorOffset = 0
        let compiled = pattern.withCString { text in
            text.withMemoryRebound(to: UInt8.self, capacity: pattern.utf8.count) { bytes in
                pcre2_compile_8(bytes, pattern.utf8.count, UInt32(PCRE2_UTF | PCRE2_UCP), &errorCode, &errorOffset, nil)
            }
        }
        guard let compiled else {
            throw PluginError.config("the pattern is not a valid PCRE2 pattern: \(Self.message(errorCode)) at offset \(errorOffset)")
        }
        code = compiled
        pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE))
        context = pcre2_match_context_create_8(nil)
        if let context {
            pcre2_set_match_limit_8(context, matchLimit)
            pcre2_set_depth_limit_8(context, 10_000)
        }
        var captures: UInt32 = 0
        pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_CAPTURECOUNT), &captures)
        hasGroup = captures > 0
    }

    deinit {
        if let context { pcre2_match_context_free_8(context) }
        pcre2_code_free_8(code)
    }

    static func message(_ code: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = pcre2_get_error_message_8(code, &buffer, buffer.count)
        return length > 0 ? String(decoding: buffer[0..<Int(length)], as: UTF8.self) : "error \(code)"
    }

    /// Calls `body` with each match (and its first group, when the pattern
    /// has one and it took part), left to right; `body` returns false to stop.
    func matches(in subject: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>, Range<Int>?) throws -> Bool) throws {
        guard let data = pcre2_match_data_create_from_pattern_8(code, nil) else {
            throw PluginError.retryable("out of memory for the pattern's match data")
        }
        defer { pcre2_match_data_free_8(data) }
        var offset = 0
        while offset <= subject.count {
            let found = pcre2_match_8(code, subject.baseAddress ?? UnsafePointer(bitPattern: 1)!, subject.count, offset, 0, data, context)
            if found == PCRE2_ERROR_NOMATCH { return }
            guard found >= 0 else {
                throw PluginError.permanent("the pattern could not be matched: \(Self.message(found)) (a pattern that backtracks without bound hits the match limit)")
            }
            let vector = pcre2_get_ovector_pointer_8(data)!
            let match = vector[0]..<max(vector[0], vector[1])
            var group: Range<Int>?
            if hasGroup, found >= 2, vector[2] != Int.max && vector[2] <= vector[3] { group = vector[2]..<vector[3] }
            guard try body(match, group) else { return }
            // An empty match moves on by one character, not one byte.
            if match.isEmpty {
                var next = match.upperBound + 1
                while next < subject.count, subject[next] & 0xC0 == 0x80 { next += 1 }
                offset = next
            } else {
                offset = match.upperBound
            }
        }
    }

    func firstMatch(in subject: UnsafeBufferPointer<UInt8>) throws -> Range<Int>? {
        var first: Range<Int>?
        try matches(in: subject) { match, _ in
            first = match
            return false
        }
        return first
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(RegexAnalyzer.self) }
