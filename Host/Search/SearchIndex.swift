import Foundation
import Synchronization
import TrellisCore

/// A segment as a query sees it: with the documents deleted since it was written.
struct LiveSegment: Sendable {
    let segment: Segment
    /// Deleted documents, by number (empty when none).
    let deleted: [Bool]
    let deletedCount: Int

    func isDeleted(_ doc: Int) -> Bool { deletedCount > 0 && deleted[doc] }
    var liveCount: Int { segment.count - deletedCount }
}

/// What every query of one commit reads: never changed once made, so
/// queries run without locks while a writer prepares the next one.
struct IndexSnapshot: Sendable {
    let segments: [LiveSegment]
    let generation: Int

    var documentCount: Int { segments.reduce(0) { $0 + $1.segment.count } }
    var liveCount: Int { segments.reduce(0) { $0 + $1.liveCount } }

    /// Every document not deleted, as it was indexed: what a merge or a
    /// re-index analyzes again.
    func liveDocuments() throws(SearchError) -> [JSONValue] {
        var documents: [JSONValue] = []
        documents.reserveCapacity(liveCount)
        for live in segments {
            for doc in 0..<live.segment.count where !live.isDeleted(doc) {
                guard let value = try? JSONValue(json: Array(live.segment.sources.bytes[live.segment.sources.range(doc)])) else {
                    throw .damaged("segment \(live.segment.name) holds a document that is not JSON")
                }
                documents.append(value)
            }
        }
        return documents
    }
}

/// One named index: its schema, its committed segments, and the documents
/// indexed since the last commit. Queries see the last commit. Writes are
/// serialized; a commit writes new files and switches the manifest last.
public final class SearchIndex: @unchecked Sendable {
    public let name: String
    public let schema: SearchSchema
    let files: IndexFiles
    /// Text field → its analyzer chain (nil: not loaded, with why).
    let chains: [String: Result<AnalyzerChain, SearchError>]
    /// Set when the index was built with other analyzers than these.
    public let reindexProblem: SearchError?

    private let state: Mutex<IndexSnapshot>
    private let writer = NSLock()
    private var manifest: IndexManifest
    /// Documents since the last commit, in order (nil: replaced or deleted since).
    private var pending: [PreparedDocument?] = []
    private var pendingByID: [String: Int] = [:]
    private var pendingDeletes: Set<String> = []
    /// Document id → where it is in the committed segments.
    private var locations: [String: (segment: String, doc: Int)] = [:]

    /// More segments than this are merged after a commit.
    public var mergeThreshold = 8
    /// Where queries are recorded (nil: not recorded).
    public var analytics: QueryLog?

    init(name: String, schema: SearchSchema, files: IndexFiles, chains: [String: Result<AnalyzerChain, SearchError>]) throws(SearchError) {
        self.name = name
        self.schema = schema
        self.files = files
        self.chains = chains
        manifest = try files.readManifest()
        var problem: SearchError?
        for field in schema.textFields {
            guard let built = manifest.analyzers[field.name], case .success(let chain)? = chains[field.name] else { continue }
            if built != chain.signature {
                problem = .reindexNeeded(index: name, field: field.name, built: built, now: chain.signature)
                break
            }
        }
        reindexProblem = problem
        var segments: [LiveSegment] = []
        for entry in manifest.segments {
            let segment = try Segment.decode(try files.read(entry.name), name: entry.name)
            guard segment.count == entry.documents else {
                throw .damaged("segment \(entry.name) holds \(segment.count) documents; the manifest says \(entry.documents)")
            }
            var deleted = [Bool](repeating: false, count: entry.deletes == nil ? 0 : segment.count)
            var count = 0
            if let deletes = entry.deletes {
                for doc in try IndexFiles.decodeDeletes(try files.read(deletes), name: deletes, documents: segment.count) where !deleted[Int(doc)] {
                    deleted[Int(doc)] = true
                    count += 1
                }
            }
            segments.append(LiveSegment(segment: segment, deleted: deleted, deletedCount: count))
        }
        for live in segments {
            for doc in 0..<live.segment.count where !live.isDeleted(doc) { locations[live.segment.ids.string(doc)] = (live.segment.name, doc) }
        }
        state = Mutex(IndexSnapshot(segments: segments, generation: manifest.generation))
        files.removeUnlisted(keeping: manifest)
    }

    var snapshot: IndexSnapshot { state.withLock { $0 } }

    /// The chain of a text field, or why it cannot be used.
    func chain(_ field: String) throws(SearchError) -> AnalyzerChain {
        switch chains[field] {
        case .success(let chain)?: return chain
        case .failure(let error)?: throw error
        case nil: throw .analysis("field \(field) has no analyzer chain")
        }
    }

    // MARK: - Writing

    /// Analyzes `documents` (on worker threads, many per analyzer call) and
    /// holds them for the next commit. A document whose id is indexed
    /// already replaces it at the commit. Every registered secret is masked
    /// first: an index's files hold none, whatever a workflow gives it.
    public func index(_ documents: [JSONValue]) throws(SearchError) {
        if let reindexProblem { throw reindexProblem }
        let prepared = try prepare(Redactor.shared.isEmpty ? documents : documents.map(Redactor.shared.redact))
        writer.withLock {
            for document in prepared {
                pendingDeletes.insert(document.id)
                if let earlier = pendingByID[document.id] { pending[earlier] = nil }
                pendingByID[document.id] = pending.count
                pending.append(document)
            }
        }
    }

    /// Deletes documents by id at the next commit.
    public func delete(ids: [String]) {
        writer.withLock {
            for id in ids {
                pendingDeletes.insert(id)
                if let earlier = pendingByID.removeValue(forKey: id) { pending[earlier] = nil }
            }
        }
    }

    public var pendingCount: Int { writer.withLock { pendingByID.count } }

    public struct CommitSummary: Sendable {
        public var added: Int
        public var deleted: Int
        public var generation: Int
        public var segments: Int
    }

    /// Writes what was indexed and deleted since the last commit. On
    /// return it is durable and every later query sees it.
    @discardableResult
    public func commit() throws(SearchError) -> CommitSummary {
        writer.lock()
        defer { writer.unlock() }
        let current = snapshot
        var next = manifest
        next.generation += 1
        var segments = current.segments
        var newFiles: [String] = []
        // Deletions: documents of the committed segments whose ids were deleted or indexed again.
        var deletedNow = 0
        var deletesBySegment: [String: [Int]] = [:]
        for id in pendingDeletes {
            if let location = locations[id] { deletesBySegment[location.segment, default: []].append(location.doc) }
        }
        for (index, live) in segments.enumerated() {
            guard let docs = deletesBySegment[live.segment.name], !docs.isEmpty else { continue }
            var deleted = live.deleted.isEmpty ? [Bool](repeating: false, count: live.segment.count) : live.deleted
            var count = live.deletedCount
            for doc in docs where !deleted[doc] {
                deleted[doc] = true
                count += 1
                deletedNow += 1
            }
            let all = deleted.indices.filter { deleted[$0] }.map(UInt32.init)
            let file = IndexFiles.deletesName(segment: live.segment.name, generation: next.generation)
            try files.writeDurably(IndexFiles.encodeDeletes(all), to: file)
            newFiles.append(file)
            segments[index] = LiveSegment(segment: live.segment, deleted: deleted, deletedCount: count)
            next.segments[index].deletes = file
            next.segments[index].deleted = count
        }
        var added: Segment?
        if !pendingByID.isEmpty {
            var builder = SegmentBuilder(schema: schema)
            for case let document? in pending { builder.add(document) }
            let name = IndexFiles.segmentName(next.nextSegment)
            next.nextSegment += 1
            let segment = builder.build(name: name)
            try files.writeDurably(segment.encoded(), to: name)
            newFiles.append(name)
            segments.append(LiveSegment(segment: segment, deleted: [], deletedCount: 0))
            next.segments.append(.init(name: name, documents: segment.count, deletes: nil, deleted: 0))
            added = segment
        }
        for field in schema.textFields {
            if case .success(let chain)? = chains[field.name] { next.analyzers[field.name] = chain.signature }
        }
        do {
            try files.writeManifest(next)
        } catch {
            for file in newFiles { unlink(files.path(file)) }
            throw error
        }
        // Durable: the new commit is what queries see from now on.
        for id in pendingDeletes { locations[id] = nil }
        if let added {
            for doc in 0..<added.count { locations[added.ids.string(doc)] = (added.name, doc) }
        }
        let summary = CommitSummary(added: pendingByID.count, deleted: deletedNow, generation: next.generation, segments: segments.count)
        manifest = next
        pending = []
        pendingByID = [:]
        pendingDeletes = []
        state.withLock { $0 = IndexSnapshot(segments: segments, generation: next.generation) }
        files.removeUnlisted(keeping: next)
        return summary
    }

    /// Merges every segment into one, leaving deleted documents out (their
    /// sources are analyzed again). Queries go on reading the old segments
    /// until the merged one is committed.
    public func merge() throws(SearchError) {
        writer.lock()
        defer { writer.unlock() }
        let current = snapshot
        guard current.segments.count > 1 || current.segments.contains(where: { $0.deletedCount > 0 }) else { return }
        let prepared = try prepare(try current.liveDocuments())
        var builder = SegmentBuilder(schema: schema)
        for document in prepared { builder.add(document) }
        var next = manifest
        next.generation += 1
        let name = IndexFiles.segmentName(next.nextSegment)
        next.nextSegment += 1
        let segment = builder.build(name: name)
        try files.writeDurably(segment.encoded(), to: name)
        next.segments = [.init(name: name, documents: segment.count, deletes: nil, deleted: 0)]
        do {
            try files.writeManifest(next)
        } catch {
            unlink(files.path(name))
            throw error
        }
        locations = [:]
        for doc in 0..<segment.count { locations[segment.ids.string(doc)] = (name, doc) }
        manifest = next
        state.withLock { $0 = IndexSnapshot(segments: [LiveSegment(segment: segment, deleted: [], deletedCount: 0)], generation: next.generation) }
        files.removeUnlisted(keeping: next)
    }

    /// Merges when there are more segments than the threshold.
    public func mergeIfNeeded() throws(SearchError) {
        if snapshot.segments.count > mergeThreshold { try merge() }
    }

    // MARK: - Documents

    /// Types and analyzes documents, in chunks on worker threads.
    func prepare(_ documents: [JSONValue]) throws(SearchError) -> [PreparedDocument] {
        let chunk = 512
        let chunks = (documents.count + chunk - 1) / chunk
        let results = Mutex([Int: Result<[PreparedDocument], SearchError>]())
        DispatchQueue.concurrentPerform(iterations: chunks) { index in
            let range = (index * chunk)..<min(documents.count, (index + 1) * chunk)
            let result = Result { () throws(SearchError) -> [PreparedDocument] in try self.prepareChunk(documents[range], first: range.lowerBound) }
            results.withLock { $0[index] = result }
        }
        var prepared: [PreparedDocument] = []
        prepared.reserveCapacity(documents.count)
        let all = results.withLock { $0 }
        for index in 0..<chunks {
            switch all[index]! {
            case .success(let documents): prepared.append(contentsOf: documents)
            case .failure(let error): throw error
            }
        }
        return prepared
    }

    private func prepareChunk(_ documents: ArraySlice<JSONValue>, first: Int) throws(SearchError) -> [PreparedDocument] {
        var prepared: [PreparedDocument] = []
        var texts: [String: [String]] = [:]
        for (offset, document) in documents.enumerated() {
            let number = first + offset + 1
            guard let object = document.objectValue else { throw .document("document \(number) is not a JSON object") }
            guard let id = Self.identifier(object[schema.idField]) else {
                throw .document("document \(number) has no '\(schema.idField)' (a string or an integer, at most 512 bytes)")
            }
            var out = PreparedDocument(id: id, source: document.jsonBytes())
            for field in schema.fields {
                guard let value = object[field.name], value != .null else { continue }
                switch field.type {
                case .text:
                    guard let text = Self.text(value) else {
                        throw .document("document \(id): field \(field.name) is text: give a string or an array of strings")
                    }
                    texts[field.name, default: []].append(text)
                case .keyword:
                    guard let values = Self.keywords(value) else {
                        throw .document("document \(id): field \(field.name) is a keyword: give a string, number or boolean, or an array of them")
                    }
                    out.keywords[field.name] = values
                case .number:
                    guard let number = value.doubleValue, number.isFinite else {
                        throw .document("document \(id): field \(field.name) is a number, not \(value.typeName)")
                    }
                    out.numbers[field.name] = number
                case .date:
                    guard let seconds = Self.date(value) else {
                        throw .document("document \(id): field \(field.name) is a date: give ISO 8601 (2026-12-01T10:00:00Z) or seconds since 1970")
                    }
                    out.numbers[field.name] = seconds
                }
            }
            prepared.append(out)
        }
        // One analyzer call per field for the whole chunk.
        for field in schema.textFields {
            let chain = try chain(field.name)
            var owners: [Int] = []
            var batch: [String] = []
            var seen = 0
            for (index, document) in documents.enumerated() {
                if let value = document[field.name], value != .null {
                    owners.append(index)
                    batch.append(texts[field.name]![seen])
                    seen += 1
                }
            }
            guard !batch.isEmpty else { continue }
            let analyzed = try chain.analyze(batch: batch)
            let terms = ChunkTerms()
            for (slot, owner) in owners.enumerated() { prepared[owner].text[field.name] = FieldTokens(terms: terms, tokens: analyzed[slot]) }
        }
        return prepared
    }

    static func identifier(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text)? where !text.isEmpty && text.utf8.count <= 512: return text
        case .number(let number)? where number.rounded() == number && abs(number) < 9e15: return String(Int64(number))
        default: return nil
        }
    }

    /// A text field's value; an array's strings are joined by line ends
    /// (the highlighter joins them the same way).
    static func text(_ value: JSONValue) -> String? {
        if let text = value.stringValue { return text }
        guard let items = value.arrayValue else { return nil }
        var parts: [String] = []
        for item in items {
            guard let text = item.stringValue else { return nil }
            parts.append(text)
        }
        return parts.joined(separator: "\n")
    }

    static func keywords(_ value: JSONValue) -> [String]? {
        func one(_ value: JSONValue) -> String? {
            switch value {
            case .string(let text): return text.utf8.count <= 1024 ? text : nil
            case .number(let number): return number.rounded() == number && abs(number) < 9e15 ? String(Int64(number)) : String(number)
            case .bool(let flag): return flag ? "true" : "false"
            default: return nil
            }
        }
        if let items = value.arrayValue {
            var values: [String] = []
            for item in items {
                guard let text = one(item) else { return nil }
                values.append(text)
            }
            return values
        }
        return one(value).map { [$0] }
    }

    public static func date(_ value: JSONValue) -> Double? {
        if let number = value.doubleValue { return number.isFinite ? number : nil }
        guard let text = value.stringValue else { return nil }
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date.timeIntervalSince1970 }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date.timeIntervalSince1970 }
        formatter.formatOptions = [.withFullDate]
        return formatter.date(from: text)?.timeIntervalSince1970
    }
}
