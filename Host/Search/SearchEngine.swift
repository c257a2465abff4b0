import Foundation
import Synchronization
import TrellisCore
import TrellisPluginHost

/// The named indexes of a deployment, in one folder (by default
/// `.trellis/search` beside the store), with their analyzers taken from
/// the deployment's loaded plugins.
public final class SearchEngine: Sendable {
    public let root: String
    /// The analyzer plugins, by id (the deployment's loaded instances).
    let analyzers: @Sendable (String) -> Result<PluginInstance, SearchError>
    private let open = Mutex([String: SearchIndex]())

    public init(root: String, analyzers: @escaping @Sendable (String) -> Result<PluginInstance, SearchError>) {
        self.root = root
        self.analyzers = analyzers
    }

    /// An engine whose analyzers are a plugin manager's loaded instances.
    public convenience init(root: String, plugins: PluginManager) {
        self.init(root: root) { id in
            if let instance = plugins.instance(id) {
                guard instance.info.kind == .analyzer else {
                    return .failure(.analysis("\(id) is a \(instance.info.kind.rawValue) plugin, not an analyzer"))
                }
                return .success(instance)
            }
            return .failure(.analysis(plugins.status(id)?.reason ?? "not enabled in the deployment config"))
        }
    }

    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter, name.count <= 64 else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    public var names: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .filter { Self.isValidName($0) && FileManager.default.fileExists(atPath: "\(root)/\($0)/schema.json") }.sorted()
    }

    /// Makes an empty index. Its analyzers must be loaded now.
    @discardableResult
    public func create(_ name: String, schema: SearchSchema) throws(SearchError) -> SearchIndex {
        guard Self.isValidName(name) else { throw .invalidName(name) }
        let directory = "\(root)/\(name)"
        guard !FileManager.default.fileExists(atPath: "\(directory)/schema.json") else { throw .indexExists(name) }
        let chains = self.chains(for: schema)
        for field in schema.textFields {
            if case .failure(let error)? = chains[field.name] { throw error }
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .storage("cannot create \(directory): \(error.localizedDescription)")
        }
        let files = IndexFiles(directory: directory)
        try files.writeDurably(schema.json.jsonBytes(pretty: true), to: "schema.json")
        return try index(name)
    }

    /// An index, opened once and kept.
    public func index(_ name: String) throws(SearchError) -> SearchIndex {
        if let index = open.withLock({ $0[name] }) { return index }
        guard Self.isValidName(name) else { throw .invalidName(name) }
        let files = IndexFiles(directory: "\(root)/\(name)")
        guard FileManager.default.fileExists(atPath: files.schemaPath) else { throw .unknownIndex(name, known: names) }
        let value: JSONValue
        do {
            value = try JSONValue(json: try files.read("schema.json"))
        } catch let error as SearchError {
            throw error
        } catch {
            throw .damaged("\(files.schemaPath) is not JSON")
        }
        let schema = try SearchSchema.parse(value)
        let index = try SearchIndex(name: name, schema: schema, files: files, chains: chains(for: schema))
        index.analytics = QueryLog(path: files.path("queries.log"))
        return open.withLock { opened in
            if let existing = opened[name] { return existing }
            opened[name] = index
            return index
        }
    }

    public func drop(_ name: String) throws(SearchError) {
        guard Self.isValidName(name) else { throw .invalidName(name) }
        let directory = "\(root)/\(name)"
        guard FileManager.default.fileExists(atPath: "\(directory)/schema.json") else { throw .unknownIndex(name, known: names) }
        _ = open.withLock { $0.removeValue(forKey: name) }
        do {
            try FileManager.default.removeItem(atPath: directory)
        } catch {
            throw .storage("cannot remove \(directory): \(error.localizedDescription)")
        }
    }

    /// Builds an index again from the documents it holds, with the analyzers
    /// the deployment has now: into a new folder, which then replaces the old.
    @discardableResult
    public func reindex(_ name: String, progress: (Int, Int) -> Void = { _, _ in }) throws(SearchError) -> Int {
        guard Self.isValidName(name) else { throw .invalidName(name) }
        let directory = "\(root)/\(name)"
        let files = IndexFiles(directory: directory)
        guard FileManager.default.fileExists(atPath: files.schemaPath) else { throw .unknownIndex(name, known: names) }
        let old: SearchIndex
        if let opened = open.withLock({ $0[name] }) { old = opened } else { old = try index(name) }
        let documents = try old.snapshot.liveDocuments()
        let staging = "\(root)/.\(name).reindex"
        try? FileManager.default.removeItem(atPath: staging)
        do {
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        } catch {
            throw .storage("cannot create \(staging): \(error.localizedDescription)")
        }
        let stagingFiles = IndexFiles(directory: staging)
        try stagingFiles.writeDurably(old.schema.json.jsonBytes(pretty: true), to: "schema.json")
        let fresh = try SearchIndex(name: name, schema: old.schema, files: stagingFiles, chains: chains(for: old.schema))
        let batch = 10_000
        var done = 0
        for start in stride(from: 0, to: documents.count, by: batch) {
            try fresh.index(Array(documents[start..<min(documents.count, start + batch)]))
            done = min(documents.count, start + batch)
            progress(done, documents.count)
        }
        try fresh.commit()
        // The old folder goes aside, the new one takes its name, the old one goes.
        let aside = "\(root)/.\(name).old"
        try? FileManager.default.removeItem(atPath: aside)
        guard rename(directory, aside) == 0 else {
            throw .storage("cannot move the old index aside: \(String(cString: strerror(errno)))")
        }
        guard rename(staging, directory) == 0 else {
            let reason = String(cString: strerror(errno))
            rename(aside, directory)
            throw .storage("cannot put the rebuilt index in place: \(reason)")
        }
        if FileManager.default.fileExists(atPath: "\(aside)/queries.log") {
            try? FileManager.default.moveItem(atPath: "\(aside)/queries.log", toPath: "\(directory)/queries.log")
        }
        try? FileManager.default.removeItem(atPath: aside)
        _ = open.withLock { $0.removeValue(forKey: name) }
        return documents.count
    }

    func chains(for schema: SearchSchema) -> [String: Result<AnalyzerChain, SearchError>] {
        var chains: [String: Result<AnalyzerChain, SearchError>] = [:]
        for field in schema.textFields {
            var links: [PluginInstance] = []
            var failure: SearchError?
            for (position, id) in field.analyzer.enumerated() {
                switch analyzers(id) {
                case .success(let instance):
                    if position > 0, !instance.isTokenFilter {
                        failure = .analysis("field \(field.name): \(id) is not a token filter, so it can only be first in the analyzer chain")
                    }
                    links.append(instance)
                case .failure(let error):
                    if case .analysis(let reason) = error {
                        failure = .analyzerUnavailable(field: field.name, analyzer: id, reason: reason)
                    } else {
                        failure = error
                    }
                }
                if failure != nil { break }
            }
            chains[field.name] = failure.map { .failure($0) } ?? .success(AnalyzerChain(links: links))
        }
        return chains
    }
}
