import Foundation
import TrellisCore

/// Changes a deployment config's YAML text the way a person would: only the
/// lines of the value that changes are rewritten, and comments, order and
/// layout elsewhere stay as they were. Every change is proved by reading
/// the new text back: it must hold exactly the old document with that one
/// value changed, or the edit is refused and the file left alone.
///
/// A value written in block style (`key:` at the start of its line) is
/// replaced in place; a new key goes at the end of its parent's block; a
/// parent written in flow style (`channel.stdout: {config: …}`) is
/// rewritten as a whole.
public struct DeploymentConfigEditor: Sendable {
    public private(set) var text: String
    public let file: String

    public init(text: String, file: String) throws(DeploymentConfigEditError) {
        self.text = text
        self.file = file
        _ = try parse(text)
    }

    /// The document as it stands.
    public func value() throws(DeploymentConfigEditError) -> JSONValue { try parse(text).value }

    /// Sets the value at `path` (mapping keys from the top), making the
    /// mappings on the way when they are missing.
    public mutating func set(_ path: [String], to value: JSONValue) throws(DeploymentConfigEditError) {
        precondition(!path.isEmpty, "the whole document is never replaced")
        let document = try parse(text)
        let expected = Self.setting(document.value, path[...], to: value)
        var lines = text.components(separatedBy: "\n")

        // The deepest prefix of `path` written as a block mapping entry.
        var depth = 0
        while depth < path.count, blockEntry(Array(path[...depth]), in: document, lines: lines) != nil { depth += 1 }
        if depth == path.count {
            let entry = blockEntry(path, in: document, lines: lines)!
            let old = lines[entry.line]
            var rendered = Self.render(key: path.last!, value: value, indent: entry.indent)
            if let comment = Self.trailingComment(old, value: Self.value(at: path[...], in: document.value)), rendered.count == 1 {
                rendered[0] += comment
            }
            lines.replaceSubrange(entry.line...extentEnd(of: entry, lines: lines), with: rendered)
        } else if depth == 0 {
            // A new top-level key, after the last line with content.
            guard document.value.objectValue != nil || document.value == .null else {
                throw refusal("the document is not a mapping")
            }
            let last = lines.lastIndex(where: { !Self.isBlankOrComment($0) }) ?? -1
            let rendered = Self.render(key: path[0], value: Self.value(at: path[..<1], in: expected) ?? value, indent: 0)
            lines.insert(contentsOf: rendered, at: last + 1)
        } else {
            let parentPath = Array(path[..<depth])
            let parent = blockEntry(parentPath, in: document, lines: lines)!
            let parentValue = Self.value(at: parentPath[...], in: document.value)
            let children = parentValue?.objectValue ?? [:]
            let childEntries = children.keys.compactMap { blockEntry(parentPath + [$0], in: document, lines: lines) }
            let keyLine = lines[parent.line]
            let writtenAsBlock = (parentValue == .null && Self.endsAfterColon(keyLine))
                || (!children.isEmpty && childEntries.count == children.count)
            if writtenAsBlock && children[path[depth]] == nil {
                let indent = childEntries.map(\.indent).min() ?? parent.indent + 2
                let child = Array(path[...depth])
                let rendered = Self.render(key: path[depth], value: Self.value(at: child[...], in: expected)!, indent: indent)
                lines.insert(contentsOf: rendered, at: extentEnd(of: parent, lines: lines) + 1)
            } else {
                let rendered = Self.render(key: parentPath.last!, value: Self.value(at: parentPath[...], in: expected)!,
                                           indent: parent.indent)
                lines.replaceSubrange(parent.line...extentEnd(of: parent, lines: lines), with: rendered)
            }
        }
        let edited = lines.joined(separator: "\n")
        guard let reread = try? YAMLDocument(text: edited, file: file), reread.value == expected else {
            throw refusal("its layout at \(path.joined(separator: ".")) is one this editor cannot change safely")
        }
        text = edited
    }

    // MARK: - Lines

    struct Entry {
        /// 0-based line of the key.
        var line: Int
        /// Spaces before the key.
        var indent: Int
    }

    /// Where the key at `path` is written as a block mapping entry: first on
    /// its line, in a chain of block entries from the top. Nil otherwise.
    private func blockEntry(_ path: [String], in document: YAMLDocument, lines: [String]) -> Entry? {
        var pointer = ""
        var entry: Entry?
        for key in path {
            pointer += "/" + YAMLDocument.escape(key)
            guard let location = document.locations[pointer], location.line >= 1, location.line <= lines.count else { return nil }
            let line = lines[location.line - 1]
            let indent = line.prefix(while: { $0 == " " }).count
            guard location.column == indent + 1, !line.dropFirst(indent).hasPrefix("-") else { return nil }
            if let outer = entry, indent <= outer.indent || location.line - 1 <= outer.line { return nil }
            entry = Entry(line: location.line - 1, indent: indent)
        }
        return entry
    }

    /// The last line of the entry's value: the lines after the key that are
    /// indented deeper (or a block sequence at the key's own indentation).
    private func extentEnd(of entry: Entry, lines: [String]) -> Int {
        var end = entry.line
        var index = entry.line + 1
        while index < lines.count {
            let line = lines[index]
            if Self.isBlankOrComment(line) {
                index += 1
                continue
            }
            let indent = line.prefix(while: { $0 == " " }).count
            let content = line.dropFirst(indent)
            guard indent > entry.indent || (indent == entry.indent && (content == "-" || content.hasPrefix("- "))) else { break }
            end = index
            index += 1
        }
        return end
    }

    static func isBlankOrComment(_ line: String) -> Bool {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty || trimmed.hasPrefix("#")
    }

    /// `key:` with nothing after the colon but a comment.
    static func endsAfterColon(_ line: String) -> Bool {
        var content = Substring(line)
        if let hash = content.range(of: " #") { content = content[..<hash.lowerBound] }
        return content.trimmingCharacters(in: .whitespaces).hasSuffix(":")
    }

    /// A comment after a one-line bool, number or null, which a new value keeps.
    static func trailingComment(_ line: String, value: JSONValue?) -> String? {
        switch value {
        case .bool?, .number?, .null?: break
        default: return nil
        }
        guard let hash = line.range(of: " #")?.lowerBound else { return nil }
        var start = hash
        while start > line.startIndex, line[line.index(before: start)] == " " { start = line.index(before: start) }
        return String(line[start...])
    }

    // MARK: - Rendering

    /// `key: value` as block YAML at `indent`: a non-empty mapping as nested
    /// lines, anything else on one line in flow style.
    static func render(key: String, value: JSONValue, indent: Int) -> [String] {
        let pad = String(repeating: " ", count: indent)
        if case .object(let object) = value, !object.isEmpty {
            return ["\(pad)\(renderKey(key)):"] + object.keys.sorted().flatMap { render(key: $0, value: object[$0]!, indent: indent + 2) }
        }
        return ["\(pad)\(renderKey(key)): \(flow(value))"]
    }

    static func flow(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .number: return value.jsonString()
        case .string(let string): return JSONValue.string(string).jsonString()
        case .array(let items): return "[" + items.map(flow).joined(separator: ", ") + "]"
        case .object(let object):
            return "{" + object.keys.sorted().map { "\(renderKey($0)): \(flow(object[$0]!))" }.joined(separator: ", ") + "}"
        }
    }

    /// A key plain when it reads back as the same string, quoted otherwise.
    static func renderKey(_ key: String) -> String {
        let plain = key.first.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") } ?? false
            && key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-@".contains($0)) }
            && !["true", "false", "yes", "no", "on", "off", "null", "y", "n"].contains(key.lowercased())
            && Double(key) == nil
        return plain ? key : JSONValue.string(key).jsonString()
    }

    // MARK: - Values

    static func value(at path: ArraySlice<String>, in value: JSONValue) -> JSONValue? {
        var current: JSONValue? = value
        for key in path { current = current?[key] }
        return current
    }

    static func setting(_ base: JSONValue, _ path: ArraySlice<String>, to value: JSONValue) -> JSONValue {
        guard let key = path.first else { return value }
        var object = base.objectValue ?? [:]
        object[key] = setting(object[key] ?? .null, path.dropFirst(), to: value)
        return .object(object)
    }

    private func parse(_ text: String) throws(DeploymentConfigEditError) -> YAMLDocument {
        do {
            return try YAMLDocument(text: text, file: file)
        } catch {
            throw DeploymentConfigEditError(file: file, message: error.description)
        }
    }

    private func refusal(_ why: String) -> DeploymentConfigEditError {
        DeploymentConfigEditError(file: file, message: "\(file) was left unchanged: \(why); make the change by hand")
    }
}

public struct DeploymentConfigEditError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var message: String
    public var description: String { message }
}

extension DeploymentConfigEditor {
    /// Reads `file` for editing; a missing file is an empty config.
    public static func open(file: String) throws(DeploymentConfigEditError) -> DeploymentConfigEditor {
        guard FileManager.default.fileExists(atPath: file) else { return try DeploymentConfigEditor(text: "", file: file) }
        do {
            return try DeploymentConfigEditor(text: try TextFile.read(file), file: file)
        } catch let error as DeploymentConfigEditError {
            throw error
        } catch {
            throw DeploymentConfigEditError(file: file, message: "\(file) cannot be read: \(error)")
        }
    }

    /// Writes the text back: to a file beside it, then renamed over it, so a
    /// reader sees the old file or the new one, never half of one. The
    /// file's permissions are kept.
    public func write() throws(DeploymentConfigEditError) {
        let target = URL(fileURLWithPath: file)
        let temporary = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).\(getpid()).tmp")
        do {
            let mode = (try? FileManager.default.attributesOfItem(atPath: file)[.posixPermissions]) as? NSNumber
            try Data(text.utf8).write(to: temporary)
            if let mode { try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: temporary.path) }
            guard rename(temporary.path, target.path) == 0 else {
                throw DeploymentConfigEditError(file: file, message: "cannot replace \(file): \(String(cString: strerror(errno)))")
            }
        } catch let error as DeploymentConfigEditError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw DeploymentConfigEditError(file: file, message: "cannot write \(file): \(error.localizedDescription)")
        }
    }
}
