/// Why a plugin was not loaded: what was wrong, with which file or id, and
/// what to do about it.
public struct PluginLoadError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        public static let fileMissing = Code("file_missing")
        public static let notSharedObject = Code("not_shared_object")
        public static let missingDependency = Code("missing_dependency")
        public static let openFailed = Code("open_failed")
        public static let noEntrySymbol = Code("no_entry_symbol")
        public static let abiMajorMismatch = Code("abi_major_mismatch")
        public static let abiMinorNewer = Code("abi_minor_newer")
        public static let structTooSmall = Code("struct_too_small")
        public static let missingFunction = Code("missing_function")
        public static let missingInterface = Code("missing_interface")
        public static let invalidDescriptor = Code("invalid_descriptor")
        public static let duplicateID = Code("duplicate_id")
        public static let createFailed = Code("create_failed")
        public static let checksumMismatch = Code("checksum_mismatch")
        public static let manifestMissing = Code("manifest_missing")
        public static let manifestInvalid = Code("manifest_invalid")
        public static let manifestMismatch = Code("manifest_mismatch")
        public static let configInvalid = Code("config_invalid")
        public static let secretMissing = Code("secret_missing")
        /// The deployment trusts publishers, and the manifest carries no signature.
        public static let unsigned = Code("unsigned")
        /// The manifest's publisher is not one the deployment trusts.
        public static let untrustedPublisher = Code("untrusted_publisher")
        /// The key the manifest was signed with is revoked.
        public static let revokedKey = Code("revoked_key")
        /// The signature does not match the manifest (it was changed after signing, or signed by another key).
        public static let badSignature = Code("bad_signature")

        /// Every code, for the docs' table of refusals.
        public static let all: [Code] = [
            fileMissing, notSharedObject, missingDependency, openFailed, noEntrySymbol, abiMajorMismatch, abiMinorNewer,
            structTooSmall, missingFunction, missingInterface, invalidDescriptor, duplicateID, createFailed, checksumMismatch,
            manifestMissing, manifestInvalid, manifestMismatch, configInvalid, secretMissing, unsigned, untrustedPublisher,
            revokedKey, badSignature,
        ]
    }

    public var code: Code
    /// The library file concerned, when there is one.
    public var path: String?
    /// The plugin id concerned, when known.
    public var pluginID: String?
    /// What was wrong.
    public var message: String
    /// What to do about it.
    public var remedy: String

    public init(_ code: Code, path: String? = nil, pluginID: String? = nil, message: String, remedy: String) {
        self.code = code
        self.path = path
        self.pluginID = pluginID
        self.message = message
        self.remedy = remedy
    }

    /// The reason on one line, without the subject (for status listings).
    public var reason: String { "\(message). \(remedy)" }

    public var description: String {
        var subject: [String] = []
        if let pluginID { subject.append("plugin \(pluginID)") }
        if let path { subject.append(path) }
        return (subject.isEmpty ? "" : subject.joined(separator: " at ") + ": ") + reason
    }
}
