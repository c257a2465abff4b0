import CTrellisABI
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TrellisJSON

/// A plugin library opened with `dlopen` and checked against the ABI rules.
///
/// Libraries are opened by absolute path with `RTLD_NOW | RTLD_LOCAL |
/// RTLD_NODELETE` and are never closed: unloading Swift code from a running
/// process corrupts the runtime's type metadata caches.
public final class PluginLibrary: @unchecked Sendable {
    public let path: String
    public let info: PluginInfo
    let descriptor: UnsafePointer<trellis_plugin_descriptor_t>

    /// The size of the 1.0 descriptor: every later 1.x descriptor is at least this big.
    static let minimumDescriptorSize = minimumSize(of: trellis_plugin_descriptor_t.self, through: \.destroy)

    private init(path: String, descriptor: UnsafePointer<trellis_plugin_descriptor_t>, info: PluginInfo) {
        self.path = path
        self.descriptor = descriptor
        self.info = info
    }

    /// Opens and checks the library at `path`. Nothing in it is called but its
    /// entry function and `get_interface`.
    public static func open(path rawPath: String) throws(PluginLoadError) -> PluginLibrary {
        let path = URL(fileURLWithPath: rawPath).standardizedFileURL.path
        try checkFile(path)
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            throw classifyOpenFailure(path: path, detail: dlerror().map { String(cString: $0) } ?? "unknown error")
        }
        guard let symbol = dlsym(handle, TRELLIS_PLUGIN_ENTRY_SYMBOL) else {
            throw PluginLoadError(
                .noEntrySymbol, path: path,
                message: "the library does not export the entry symbol `\(TRELLIS_PLUGIN_ENTRY_SYMBOL)`",
                remedy: "Export it: `@_cdecl(\"\(TRELLIS_PLUGIN_ENTRY_SYMBOL)\")` in Swift, `TRELLIS_EXPORT` in C (see docs/plugin-authoring.md)")
        }
        let entry = unsafeBitCast(symbol, to: trellis_plugin_entry_fn.self)
        guard let descriptor = entry() else {
            throw PluginLoadError(.invalidDescriptor, path: path, message: "the entry function returned NULL",
                                  remedy: "Return a pointer to a static trellis_plugin_descriptor_t")
        }
        let info = try checkDescriptor(descriptor, path: path)
        return PluginLibrary(path: path, descriptor: descriptor, info: info)
    }

    /// Asks the plugin for an interface table.
    package func interface(_ id: String) -> UnsafeRawPointer? {
        guard let getInterface = descriptor.pointee.get_interface else { return nil }
        return withABIString(id) { getInterface(descriptor, $0) }
    }

    // MARK: - Checks

    private static func checkFile(_ path: String) throws(PluginLoadError) {
        if let problem = ELFCheck.problem(at: path) {
            throw PluginLoadError(problem.code, path: path, message: problem.message, remedy: problem.remedy)
        }
    }

    private static func classifyOpenFailure(path: String, detail: String) -> PluginLoadError {
        if let range = detail.range(of: "undefined symbol: ") {
            let symbol = detail[range.upperBound...].split(separator: " ").first.map(String.init) ?? "?"
            return PluginLoadError(.missingDependency, path: path,
                                   message: "the library needs the symbol `\(symbol)`, which no loaded library provides",
                                   remedy: "Link the library that defines it into the plugin, or rebuild against the current SDK")
        }
        if detail.contains("cannot open shared object file") {
            let needed = detail.split(separator: ":").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "?"
            return PluginLoadError(.missingDependency, path: path,
                                   message: "a library it depends on, \(needed), cannot be found",
                                   remedy: "Install \(needed), or set its location in the plugin's RUNPATH or LD_LIBRARY_PATH")
        }
        if detail.contains("invalid ELF header") || detail.contains("file too short") || detail.contains("wrong ELF class") {
            return PluginLoadError(.notSharedObject, path: path, message: "the dynamic loader refused it: \(detail)",
                                   remedy: "Rebuild the plugin for this machine's architecture as a shared library")
        }
        return PluginLoadError(.openFailed, path: path, message: "dlopen failed: \(detail)",
                               remedy: "Check that the library was built for this platform and Swift toolchain")
    }

    private static func checkDescriptor(_ descriptor: UnsafePointer<trellis_plugin_descriptor_t>,
                                        path: String) throws(PluginLoadError) -> PluginInfo {
        // Only the version triple may be read before the majors are known to match.
        let abi = UnsafeRawPointer(descriptor).load(as: trellis_abi_version_t.self)
        let plugin = ABIVersion(major: abi.major, minor: abi.minor, patch: abi.patch)
        let host = ABIVersion.host
        guard plugin.major == host.major else {
            throw PluginLoadError(
                .abiMajorMismatch, path: path,
                message: "it was built for plugin ABI \(plugin), and this host speaks ABI \(host); majors must be equal",
                remedy: plugin.major > host.major
                    ? "Upgrade Trellis to a release with ABI \(plugin.major).x, or use a build of the plugin for SDK \(host.major).x"
                    : "Rebuild the plugin against Trellis SDK \(host.major).x")
        }
        guard plugin.minor <= host.minor else {
            throw PluginLoadError(
                .abiMinorNewer, path: path,
                message: "it was built for plugin ABI \(plugin), newer than this host's ABI \(host)",
                remedy: "Upgrade Trellis to a release with ABI \(plugin.major).\(plugin.minor) or later, or rebuild the plugin against SDK \(host.major).\(host.minor)")
        }
        let size = Int(descriptor.pointee.struct_size)
        guard size >= minimumDescriptorSize else {
            throw PluginLoadError(
                .structTooSmall, path: path,
                message: "its descriptor says it is \(size) bytes, but ABI \(host.major).0 descriptors are at least \(minimumDescriptorSize)",
                remedy: "Set struct_size to sizeof(trellis_plugin_descriptor_t) and rebuild")
        }
        let d = descriptor.pointee
        for (name, present) in [("get_interface", d.get_interface != nil), ("create", d.create != nil),
                                ("destroy", d.destroy != nil)] where !present {
            throw PluginLoadError(.missingFunction, path: path,
                                  message: "its descriptor's required function `\(name)` is NULL",
                                  remedy: "Implement `\(name)` and rebuild")
        }
        let id = d.id.string
        guard isValidPluginID(id) else {
            throw PluginLoadError(.invalidDescriptor, path: path, message: "its id '\(id)' is not of the form kind.name",
                                  remedy: "Use an id such as `channel.my-service`: lower-case letters, digits, '-', '.'")
        }
        guard let kind = PluginKind(abi: d.kind) else {
            throw PluginLoadError(.invalidDescriptor, path: path, pluginID: id,
                                  message: "its kind \(d.kind) is not one this host knows",
                                  remedy: "Use TRELLIS_KIND_CHANNEL, _PROVIDER, _RECOVERY or _ANALYZER")
        }
        var info = PluginInfo(id: id, kind: kind, version: d.version.string, summary: d.description.string, abi: plugin,
                              isSingleThreaded: d.flags & UInt64(TRELLIS_PLUGIN_SINGLE_THREADED) != 0,
                              interfaces: [])
        info.interfaces = knownInterfaces.filter { id in
            withABIString(id) { d.get_interface!(descriptor, $0) } != nil
        }
        try checkInterfaces(descriptor, info: info, path: path)
        return info
    }

    private static func checkInterfaces(_ descriptor: UnsafePointer<trellis_plugin_descriptor_t>, info: PluginInfo,
                                        path: String) throws(PluginLoadError) {
        let required = info.kind.requiredInterface
        guard let table = withABIString(required, { descriptor.pointee.get_interface!(descriptor, $0) }) else {
            throw PluginLoadError(.missingInterface, path: path, pluginID: info.id,
                                  message: "it is a \(info.kind) plugin but does not offer `\(required)`",
                                  remedy: "Return the \(required) table from get_interface")
        }
        let problem: (size: Int, minimum: Int, nullFunction: String?) = switch info.kind {
        case .channel: InterfaceCheck.channel(table)
        case .provider: InterfaceCheck.provider(table)
        case .recovery: InterfaceCheck.recovery(table)
        case .analyzer: InterfaceCheck.analyzer(table)
        }
        guard problem.size >= problem.minimum else {
            throw PluginLoadError(.structTooSmall, path: path, pluginID: info.id,
                                  message: "its \(required) table says it is \(problem.size) bytes; at least \(problem.minimum) are required",
                                  remedy: "Set struct_size to the table's sizeof and rebuild")
        }
        if let name = problem.nullFunction {
            throw PluginLoadError(.missingFunction, path: path, pluginID: info.id,
                                  message: "its \(required) function `\(name)` is NULL, and it is required",
                                  remedy: "Implement `\(name)` and rebuild")
        }
    }
}

/// Plugin ids: `kind.name`, lower-case letters, digits, dashes and dots.
/// A plugin id: `kind.name`, lower-case letters, digits, `-` and `_` in dot-separated parts, at most 128 characters.
public func isValidPluginID(_ id: String) -> Bool {
    let parts = id.split(separator: ".", omittingEmptySubsequences: false)
    return parts.count >= 2 && id.count <= 128 && parts.allSatisfy { part in
        !part.isEmpty && part.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == "_") }
    }
}

/// A plugin's place in a deployment: its id (`provider.openai`), or its id
/// and an instance name (`provider.openai@azure-eu`) for a second instance
/// of the same plugin with its own config, secrets and egress.
public enum PluginInstanceName {
    /// The plugin id a name is an instance of.
    public static func pluginID(_ name: String) -> String {
        name.firstIndex(of: "@").map { String(name[..<$0]) } ?? name
    }

    /// Whether `name` is a plugin id, or one followed by `@` and an instance
    /// name of lower-case letters, digits, `-` and `_` (at most 64).
    public static func isValid(_ name: String) -> Bool {
        guard let at = name.firstIndex(of: "@") else { return isValidPluginID(name) }
        let instance = name[name.index(after: at)...]
        return isValidPluginID(String(name[..<at])) && !instance.isEmpty && instance.count <= 64
            && instance.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == "_") }
    }
}

/// Checks an interface table's size and required functions.
enum InterfaceCheck {
    typealias Result = (size: Int, minimum: Int, nullFunction: String?)

    static func channel(_ raw: UnsafeRawPointer) -> Result {
        let table = raw.assumingMemoryBound(to: trellis_channel_v1_t.self).pointee
        return (Int(table.struct_size), minimumSize(of: trellis_channel_v1_t.self, through: \.send),
                table.send == nil ? "send" : nil)
    }

    static func provider(_ raw: UnsafeRawPointer) -> Result {
        let table = raw.assumingMemoryBound(to: trellis_provider_v1_t.self).pointee
        return (Int(table.struct_size), minimumSize(of: trellis_provider_v1_t.self, through: \.list_models),
                table.complete == nil ? "complete" : table.list_models == nil ? "list_models" : nil)
    }

    static func recovery(_ raw: UnsafeRawPointer) -> Result {
        let table = raw.assumingMemoryBound(to: trellis_recovery_v1_t.self).pointee
        return (Int(table.struct_size), minimumSize(of: trellis_recovery_v1_t.self, through: \.record_outcome),
                table.decide == nil ? "decide" : nil)
    }

    static func analyzer(_ raw: UnsafeRawPointer) -> Result {
        let table = raw.assumingMemoryBound(to: trellis_analyzer_v1_t.self).pointee
        return (Int(table.struct_size), minimumSize(of: trellis_analyzer_v1_t.self, through: \.tokenize),
                table.tokenize == nil ? "tokenize" : nil)
    }
}
