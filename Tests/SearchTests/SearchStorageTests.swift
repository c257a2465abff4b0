import Foundation
import Testing
import TrellisCore
import TrellisPluginHost
@testable import TrellisSearch

/// What the index's files promise: an analyzer change is caught and fixed
/// by re-indexing, a damaged file is refused with a clear error, and an
/// interrupted commit leaves the previous one whole.
@Suite struct SearchStorageTests {
    func make(_ fixture: SearchFixture) throws -> SearchIndex {
        let index = try fixture.engine.create("docs", schema: try fixture.schema(#"{"fields": {"body": {"type": "text", "analyzer": "analyzer.standard"}}}"#))
        try index.index([.object(["id": "1", "body": "Connections running"]), .object(["id": "2", "body": "a connected runner"])])
        try index.commit()
        return index
    }

    @Test func anotherAnalyzerVersionNeedsAReindexAndReindexFixesIt() throws {
        let fixture = try SearchFixture()
        _ = try make(fixture)
        // The same folder, with analyzer.standard answered by another plugin (so another id@version).
        let english = try #require(fixture.plugins.instance("analyzer.english"))
        let other = SearchEngine(root: fixture.engine.root) { id in
            id == "analyzer.standard" ? .success(english) : .failure(.analysis("not loaded"))
        }
        let stale = try other.index("docs")
        #expect {
            _ = try stale.search(SearchRequest(query: "connect"))
        } throws: { error in
            "\(error)".contains("re-index needed: the index 'docs' analyzed field 'body' with analyzer.standard@1.0.0, and the deployment now has analyzer.english@1.0.0")
                && "\(error)".contains("trellis search reindex docs")
        }
        #expect(throws: SearchError.self) { try stale.index([.object(["id": "3", "body": "x"])]) }
        #expect(try other.reindex("docs") == 2)
        let fresh = try other.index("docs")
        #expect(try fresh.search(SearchRequest(query: "connect")).total == 2, "now stemmed: connections, connected → connect")
    }

    @Test func aDamagedSegmentIsRefusedNotCrashedOn() throws {
        let fixture = try SearchFixture()
        _ = try make(fixture)
        let folder = "\(fixture.engine.root)/docs"
        let segment = try #require(try FileManager.default.contentsOfDirectory(atPath: folder).first { $0.hasSuffix(".seg") })
        var bytes = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(segment)"))
        for cut in [bytes.count / 2, 10] {
            try bytes.prefix(cut).write(to: URL(fileURLWithPath: "\(folder)/\(segment)"))
            #expect {
                _ = try SearchEngine(root: fixture.engine.root, plugins: fixture.plugins).index("docs")
            } throws: { "\($0)".contains("the index is damaged") && "\($0)".contains(segment) }
        }
        bytes[bytes.count / 3] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: "\(folder)/\(segment)"))
        #expect {
            _ = try SearchEngine(root: fixture.engine.root, plugins: fixture.plugins).index("docs")
        } throws: { "\($0)".contains("does not match its checksum") }
        try "{\"format\": 1".write(toFile: "\(folder)/manifest.json", atomically: true, encoding: .utf8)
        #expect {
            _ = try SearchEngine(root: fixture.engine.root, plugins: fixture.plugins).index("docs")
        } throws: { "\($0)".contains("manifest.json is not JSON") }
    }

    /// A commit whose manifest never got renamed into place (the process died
    /// first) leaves the last commit as it was, and its new files are swept.
    @Test func aCommitCutBeforeTheManifestSwitchLeavesThePreviousOne() throws {
        let fixture = try SearchFixture()
        let index = try make(fixture)
        let folder = "\(fixture.engine.root)/docs"
        try index.index([.object(["id": "3", "body": "third"])])
        try index.commit()
        let committed = try String(contentsOfFile: "\(folder)/manifest.json", encoding: .utf8)
        // What a crash mid-commit leaves: a new segment and a manifest.json.tmp, the old manifest in place.
        try Data("partial".utf8).write(to: URL(fileURLWithPath: "\(folder)/seg-000009.seg"))
        try Data("{\"format\": 1, \"generation\": 9".utf8).write(to: URL(fileURLWithPath: "\(folder)/manifest.json.tmp"))
        let reopened = try SearchEngine(root: fixture.engine.root, plugins: fixture.plugins).index("docs")
        #expect(reopened.statistics().documents == 3)
        #expect(try String(contentsOfFile: "\(folder)/manifest.json", encoding: .utf8) == committed)
        #expect(!FileManager.default.fileExists(atPath: "\(folder)/seg-000009.seg"), "files no manifest names are removed")
        #expect(!FileManager.default.fileExists(atPath: "\(folder)/manifest.json.tmp"))
    }
}

/// The fuzz target's segment reader accepts a valid segment and refuses
/// damaged ones; FUZZ_SEED_OUT=FILE writes the seed the fuzz corpus holds.
@Suite struct SegmentChecksTests {
    @Test func aValidBodyIsAcceptedAndChangedOnesAreRefused() throws {
        let body = SegmentChecks.sampleBody()
        #expect(SegmentChecks.decode(body: body))
        #expect(!SegmentChecks.decode(body: Array(body.prefix(body.count / 2))))
        var changed = body
        changed[12] ^= 0xFF
        #expect(!SegmentChecks.decode(body: changed), "a length made wrong is caught behind a valid checksum")
        if let out = ProcessInfo.processInfo.environment["FUZZ_SEED_OUT"] {
            try Data([1] + body).write(to: URL(fileURLWithPath: out))
        }
    }
}
