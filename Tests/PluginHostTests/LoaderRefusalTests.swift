import Foundation
import Testing
@testable import TrellisPluginHost

/// Every way the loader refuses a library, each with a real `.so` built by
/// `swift build` (see Tests/Fixtures) or a real file on disk.
@Suite struct LoaderRefusalTests {
    @Test func missingFileIsNamedWithWhatToDo() throws {
        let directory = try TemporaryDirectory()
        let error = try expectRefusal(directory.file("libNothing.so"), .fileMissing)
        #expect(error.description.contains("libNothing.so"))
        #expect(error.remedy.contains("swift build"))
    }

    @Test func textFileIsNotASharedObject() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("libFake.so", "this is not a library\n")
        let error = try expectRefusal(path, .notSharedObject)
        #expect(error.message.contains("no ELF header"))
    }

    @Test func directoryIsNotALibrary() throws {
        let directory = try TemporaryDirectory()
        let error = try expectRefusal(directory.path, .notSharedObject)
        #expect(error.message == "the path is a directory, not a shared library")
    }

    /// A library cut short is refused before `dlopen`, which would map
    /// pages past its end and die of SIGBUS at the first touch.
    @Test(arguments: [4096, 20_000])
    func aTruncatedLibraryIsRefusedBeforeDlopen(keeping count: Int) throws {
        let directory = try TemporaryDirectory()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: BuildProducts.library("TrellisChannelStdout")))
        #expect(bytes.count > count * 2)
        let path = directory.file("libCut.so")
        try bytes.prefix(count).write(to: URL(fileURLWithPath: path))
        let error = try expectRefusal(path, .notSharedObject)
        #expect(error.message.hasPrefix("the library is cut short or damaged: "), "\(error.message)")
        #expect(error.message.hasSuffix("lies past its end (\(count) bytes)"))
        #expect(error.remedy.contains("trellis registry stamp"))
    }

    @Test func aLibraryForAnotherArchitectureIsRefused() throws {
        let directory = try TemporaryDirectory()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: BuildProducts.library("TrellisFixtureFrozen10"))))
        bytes[18] = 0xB7; bytes[19] = 0x00   // EM_AARCH64 on x86_64 (or the reverse below)
        if ELFCheck.hostMachine == 183 { bytes[18] = 62 }
        let path = directory.file("libOtherArch.so")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let error = try expectRefusal(path, .notSharedObject)
        #expect(error.message.contains("built for another architecture"))
    }

    @Test func aFIFOIsNotALibrary() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("libFifo.so")
        #expect(mkfifo(path, 0o600) == 0)
        let error = try expectRefusal(path, .notSharedObject)
        #expect(error.message == "the path is not a regular file, not a shared library")
    }

    @Test func unresolvedSymbolIsAMissingDependency() throws {
        let error = try expectRefusal(BuildProducts.library("TrellisFixtureUndefinedSymbol"), .missingDependency)
        #expect(error.message.contains("trellis_fixture_symbol_defined_nowhere"))
    }

    @Test func missingNeededLibraryIsNamed() throws {
        // A copy of a built plugin whose dependency on libc.so.6 is renamed to
        // a library that exists nowhere (same length, so the ELF stays valid).
        let directory = try TemporaryDirectory()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: BuildProducts.library("TrellisFixtureFrozen10"))))
        let needle = Array("libc.so.6\0".utf8), replacement = Array("libQ.so.6\0".utf8)
        let index = try #require((0...(bytes.count - needle.count)).first { bytes[$0..<($0 + needle.count)].elementsEqual(needle) })
        bytes.replaceSubrange(index..<(index + needle.count), with: replacement)
        let path = directory.file("libNeedsMissing.so")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let error = try expectRefusal(path, .missingDependency)
        #expect(error.message.contains("libQ.so.6"))
        #expect(error.remedy.contains("Install libQ.so.6"))
    }

    @Test func missingEntrySymbol() throws {
        let error = try expectRefusal(BuildProducts.library("TrellisFixtureNoEntry"), .noEntrySymbol)
        #expect(error.message.contains("trellis_plugin_entry"))
        #expect(error.description.contains("libTrellisFixtureNoEntry.so"))
    }

    @Test func differentMajorNamesBothVersions() throws {
        let error = try expectRefusal(BuildProducts.library("TrellisFixtureWrongMajor"), .abiMajorMismatch)
        #expect(error.message.contains("2.0.0"))
        #expect(error.message.contains(ABIVersion.host.description))
    }

    @Test func newerMinorNamesBothVersions() throws {
        let error = try expectRefusal(BuildProducts.library("TrellisFixtureNewerMinor"), .abiMinorNewer)
        #expect(error.message.contains("1.9.0"))
        #expect(error.message.contains(ABIVersion.host.description))
        #expect(error.remedy.contains("Upgrade Trellis"))
    }

    @Test func descriptorSmallerThanRequired() throws {
        let error = try expectRefusal(BuildProducts.library("TrellisFixtureSmallDescriptor"), .structTooSmall)
        #expect(error.message.contains("24 bytes"))
    }

    @Test func nullRequiredFunction() throws {
        let error = try expectRefusal(BuildProducts.library("TrellisFixtureNullFunction"), .missingFunction)
        #expect(error.message.contains("tokenize"))
    }

    @Test func failingCreateCarriesThePluginsMessage() throws {
        let library = try PluginLibrary.open(path: BuildProducts.library("TrellisFixtureFailingCreate"))
        do {
            _ = try PluginInstance(library: library, logger: testLogger)
            Issue.record("create should have failed")
        } catch {
            #expect(error.code == .createFailed)
            #expect(error.message.contains("license key rejected: set license_key"))
            #expect(error.message.contains("config"))
        }
    }

    @Test func twoLibrariesWithTheSameIDAreRefused() throws {
        let deployment = try StampedDeployment()
        let manager = PluginManager(configuration: try deployment.configuration("plugins:\n  analyzer.whitespace:\n"),
                                    logger: testLogger)
        let statuses = manager.loadAll(extraLibraries: [BuildProducts.library("TrellisFixtureDuplicateId")])
        let duplicate = try #require(statuses.first { $0.path?.hasSuffix("libTrellisFixtureDuplicateId.so") == true })
        #expect(duplicate.state == .error)
        #expect(duplicate.errorCode == "duplicate_id")
        #expect(duplicate.reason?.contains("libTrellisAnalyzerWhitespace.so") == true)
        // The first one stays loaded and working.
        #expect(try manager.instance("analyzer.whitespace")?.tokens(of: "A b").map(\.term) == ["a", "b"])
    }

    @Test func tamperedLibraryIsRefusedBeforeItIsOpened() throws {
        let deployment = try StampedDeployment()
        // Install a copy of the analyzer, stamp it, then change one byte.
        let plugins = deployment.directory.file("plugins")
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: true)
        let copy = "\(plugins)/libTrellisAnalyzerWhitespace.so"
        try FileManager.default.copyItem(atPath: BuildProducts.library("TrellisAnalyzerWhitespace"), toPath: copy)
        let registry = deployment.directory.file("tampered-registry")
        try PluginRegistry.stamp(source: "\(BuildProducts.packageRoot)/registry", libraries: BuildProducts.directory,
                                 output: registry)
        let handle = try #require(FileHandle(forWritingAtPath: copy))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([0x00]))
        try handle.close()

        let configuration = try deployment.configuration("""
            plugin_paths: [plugins]
            registry: [tampered-registry]
            plugins:
              analyzer.whitespace:
            """)
        let manager = PluginManager(configuration: configuration, logger: testLogger)
        let status = try #require(manager.loadAll().first { $0.id == "analyzer.whitespace" })
        #expect(status.state == .error)
        #expect(status.errorCode == "checksum_mismatch")
        #expect(status.reason?.contains("it was not loaded") == true)
        #expect(manager.instance("analyzer.whitespace") == nil)
    }

    @Test func manifestThatDoesNotMatchTheLibrary() throws {
        let deployment = try StampedDeployment()
        // A manifest for "analyzer.other" that points at the whitespace library.
        // Stamping refuses it; a registry can still hold one (copied, or stamped by
        // another tool), so it is written here with the library's sha256 by hand.
        let source = deployment.directory.file("other-source")
        let original = try String(contentsOfFile: "\(BuildProducts.packageRoot)/registry/analyzer.whitespace/1.0.0.json",
                                  encoding: .utf8)
        let other = original.replacingOccurrences(of: "\"analyzer.whitespace\"", with: "\"analyzer.other\"")
        try deployment.directory.write("other-source/analyzer.other/1.0.0.json", other)
        #expect(throws: PluginLoadError.self) {
            try PluginRegistry.stamp(source: source, libraries: BuildProducts.directory, output: deployment.directory.file("other-registry"))
        }
        let sha = try sha256(ofFile: "\(BuildProducts.directory)/libTrellisAnalyzerWhitespace.so")
        try deployment.directory.write("other-registry/analyzer.other/1.0.0.json", other.replacingOccurrences(
            of: #""file": "libTrellisAnalyzerWhitespace.so""#, with: #""file": "libTrellisAnalyzerWhitespace.so", "sha256": "\#(sha)""#))
        let manager = PluginManager(configuration: try deployment.configuration("""
            registry: [other-registry]
            plugins:
              analyzer.other:
            """), logger: testLogger)
        let status = try #require(manager.loadAll().first { $0.id == "analyzer.other" })
        #expect(status.errorCode == "manifest_mismatch")
        #expect(status.reason?.contains("analyzer.whitespace") == true)
    }

    /// Every refusal code has its row in the ABI spec's table, and the list
    /// of codes holds every one the source defines.
    @Test func everyRefusalCodeIsDocumented() throws {
        let source = try String(contentsOfFile: "\(BuildProducts.packageRoot)/Host/PluginHost/Loader/PluginLoadError.swift", encoding: .utf8)
        let defined = Set(source.matches(of: /= Code\("([a-z_]+)"\)/).map { String($0.output.1) })
        #expect(Set(PluginLoadError.Code.all.map(\.name)) == defined)
        let spec = try String(contentsOfFile: "\(BuildProducts.packageRoot)/docs/abi.md", encoding: .utf8)
        for code in PluginLoadError.Code.all {
            #expect(spec.contains("| `\(code.name)` |"), "docs/abi.md's refusal table has no row for \(code.name)")
        }
    }
}
