import Crypto
import Foundation
import TrellisCore

/// What an index's `manifest.json` records: the segments of the last commit,
/// each one's deletions, and the analyzers each text field was built with.
/// A commit writes new files first and switches this one last, with a
/// rename: a crash at any point leaves the previous commit whole.
struct IndexManifest: Sendable, Equatable {
    struct SegmentEntry: Sendable, Equatable {
        var name: String
        var documents: Int
        /// The file listing its deleted documents, if any.
        var deletes: String?
        var deleted: Int
    }

    static let format = 1
    var generation = 0
    var nextSegment = 1
    var segments: [SegmentEntry] = []
    /// Field → the analyzer chain's signature it was built with.
    var analyzers: [String: String] = [:]

    var json: JSONValue {
        .object([
            "format": .number(Double(Self.format)),
            "generation": .number(Double(generation)),
            "next_segment": .number(Double(nextSegment)),
            "segments": .array(segments.map { entry in
                .object(["name": .string(entry.name), "documents": .number(Double(entry.documents)),
                         "deletes": entry.deletes.map(JSONValue.string) ?? .null, "deleted": .number(Double(entry.deleted))])
            }),
            "analyzers": .object(analyzers.mapValues(JSONValue.string)),
        ])
    }

    init() {}

    init(json value: JSONValue, file: String) throws(SearchError) {
        guard value["format"]?.intValue == Self.format, let generation = value["generation"]?.intValue,
              let next = value["next_segment"]?.intValue, let segments = value["segments"]?.arrayValue else {
            throw .damaged("\(file) is not an index manifest of format \(Self.format)")
        }
        self.generation = generation
        nextSegment = next
        for entry in segments {
            guard let name = entry["name"]?.stringValue, IndexFiles.isSegmentName(name), let documents = entry["documents"]?.intValue else {
                throw .damaged("\(file) lists a segment it does not name properly")
            }
            let deletes = entry["deletes"]?.stringValue
            if let deletes, !IndexFiles.isDeletesName(deletes) { throw .damaged("\(file) names a deletions file '\(deletes)'") }
            self.segments.append(SegmentEntry(name: name, documents: documents, deletes: deletes, deleted: entry["deleted"]?.intValue ?? 0))
        }
        analyzers = (value["analyzers"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
    }
}

/// An index's folder: its schema, manifest, segments and deletions.
struct IndexFiles: Sendable {
    let directory: String

    var schemaPath: String { "\(directory)/schema.json" }
    var manifestPath: String { "\(directory)/manifest.json" }
    func path(_ name: String) -> String { "\(directory)/\(name)" }

    static func segmentName(_ number: Int) -> String { String(format: "seg-%06d.seg", number) }
    static func isSegmentName(_ name: String) -> Bool {
        name.hasPrefix("seg-") && name.hasSuffix(".seg") && !name.contains("/") && name.count < 40
    }
    static func deletesName(segment: String, generation: Int) -> String { "\(segment.dropLast(4)).\(generation).del" }
    static func isDeletesName(_ name: String) -> Bool {
        name.hasPrefix("seg-") && name.hasSuffix(".del") && !name.contains("/") && name.count < 60
    }

    /// Writes `bytes` durably under `name`: a temporary file, fsync, rename, fsync of the folder.
    func writeDurably(_ bytes: [UInt8], to name: String) throws(SearchError) {
        let target = path(name)
        let temporary = target + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw .storage("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var written = 0
        let ok = bytes.withUnsafeBytes { raw -> Bool in
            while written < raw.count {
                let result = Foundation.write(descriptor, raw.baseAddress! + written, raw.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                written += result
            }
            return fsync(descriptor) == 0
        }
        let problem = ok ? nil : String(cString: strerror(errno))
        close(descriptor)
        if let problem {
            unlink(temporary)
            throw .storage("cannot write \(temporary): \(problem)")
        }
        guard rename(temporary, target) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw .storage("cannot put \(target) in place: \(reason)")
        }
        syncDirectory()
    }

    func syncDirectory() {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
    }

    func read(_ name: String) throws(SearchError) -> [UInt8] {
        do {
            return try [UInt8](Data(contentsOf: URL(fileURLWithPath: path(name)), options: .mappedIfSafe))
        } catch {
            throw .damaged("\(path(name)) cannot be read (\(error.localizedDescription))")
        }
    }

    func readManifest() throws(SearchError) -> IndexManifest {
        guard FileManager.default.fileExists(atPath: manifestPath) else { return IndexManifest() }
        let bytes = try read("manifest.json")
        let value: JSONValue
        do {
            value = try JSONValue(json: bytes)
        } catch {
            throw .damaged("\(manifestPath) is not JSON")
        }
        return try IndexManifest(json: value, file: manifestPath)
    }

    func writeManifest(_ manifest: IndexManifest) throws(SearchError) {
        try writeDurably(manifest.json.jsonBytes(pretty: true), to: "manifest.json")
    }

    /// A segment's deleted documents, sorted, with a checksum.
    static func encodeDeletes(_ docs: [UInt32]) -> [UInt8] {
        var writer = BinaryWriter()
        writer.write(docs)
        writer.bytes.append(contentsOf: SHA256.hash(data: writer.bytes))
        return writer.bytes
    }

    static func decodeDeletes(_ bytes: [UInt8], name: String, documents: Int) throws(SearchError) -> [UInt32] {
        guard bytes.count >= 40, SHA256.hash(data: bytes[0..<(bytes.count - 32)]).elementsEqual(bytes[(bytes.count - 32)...]) else {
            throw .damaged("deletions file \(name) is cut short or changed")
        }
        var reader = BinaryReader(Array(bytes[0..<(bytes.count - 32)]))
        let docs = try reader.uint32s()
        guard docs.allSatisfy({ Int($0) < documents }) else { throw .damaged("deletions file \(name) names documents its segment lacks") }
        return docs
    }

    /// Files no manifest names any more (left by a crash or replaced by a commit).
    func removeUnlisted(keeping manifest: IndexManifest) {
        let listed = Set(manifest.segments.flatMap { [$0.name] + ($0.deletes.map { [$0] } ?? []) } + ["schema.json", "manifest.json"])
        for file in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where !listed.contains(file) {
            if Self.isSegmentName(file) || Self.isDeletesName(file) || file.hasSuffix(".tmp") { unlink(path(file)) }
        }
    }
}
