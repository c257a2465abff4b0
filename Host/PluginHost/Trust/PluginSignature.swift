import Crypto
import Foundation
import TrellisCore

/// Publisher keys and manifest signatures (Ed25519). A publisher signs a
/// manifest's canonical form — the manifest as the host reads it, without
/// the signature, as compact JSON with sorted keys — and that form holds
/// the library's sha256, so the signature covers the library too. The host
/// checks the signature, then the sha256, and only then opens the library.
public enum PluginSignature {
    public typealias PrivateKey = Curve25519.Signing.PrivateKey

    /// A public key as written in manifests and deployment configs.
    public static let publicPrefix = "ed25519:"
    /// A private key file's contents.
    public static let privatePrefix = "ed25519-private:"

    /// The bytes a signature is over.
    public static func canonicalBytes(_ manifest: PluginManifest) -> [UInt8] {
        var unsigned = manifest
        unsigned.publisher?.signature = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // A manifest always encodes; its JSON is re-read so the form is the host's own writer's.
        guard let data = try? encoder.encode(unsigned), let value = try? JSONValue(json: data) else { return [] }
        return value.jsonBytes()
    }

    /// A new key pair: the private key's file text and the public key.
    public static func generate() -> (privateKey: String, publicKey: String) {
        let key = Curve25519.Signing.PrivateKey()
        return (privatePrefix + key.rawRepresentation.base64EncodedString(),
                publicPrefix + key.publicKey.rawRepresentation.base64EncodedString())
    }

    /// Reads a private key file's text.
    public static func privateKey(_ text: String) throws -> Curve25519.Signing.PrivateKey {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix(privatePrefix), let raw = Data(base64Encoded: String(trimmed.dropFirst(privatePrefix.count))) else {
            throw SignatureError("the key file does not hold an Ed25519 private key (\(privatePrefix)BASE64); make one with `trellis keys generate`")
        }
        return try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
    }

    /// Reads a public key (`ed25519:BASE64`); nil when it is not one.
    public static func publicKey(_ text: String) -> Curve25519.Signing.PublicKey? {
        guard text.hasPrefix(publicPrefix), let raw = Data(base64Encoded: String(text.dropFirst(publicPrefix.count))) else {
            return nil
        }
        return try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
    }

    public static func publicText(_ key: Curve25519.Signing.PublicKey) -> String {
        publicPrefix + key.rawRepresentation.base64EncodedString()
    }

    /// `manifest` signed by `key` as `publisher` (its sha256 must be recorded first).
    public static func sign(_ manifest: PluginManifest, key: Curve25519.Signing.PrivateKey, publisher: String) throws -> PluginManifest {
        guard manifest.library.sha256 != nil else {
            throw SignatureError("\(manifest.id) \(manifest.version): record the library's sha256 before signing (`trellis registry stamp`)")
        }
        var signed = manifest
        signed.publisher = PluginManifest.Publisher(name: publisher, key: publicText(key.publicKey))
        let signature = try key.signature(for: canonicalBytes(signed))
        signed.publisher?.signature = signature.base64EncodedString()
        return signed
    }

    public struct SignatureError: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}

/// The deployment config's `trust:`: the publishers whose plugins it loads,
/// by name and public key, and keys it no longer trusts. A deployment that
/// names publishers loads only plugins signed by one of them (a plugin with
/// `allow_unsigned: true` excepted); one that names none loads unsigned
/// plugins as before, and checks a signature only when it can.
public struct TrustSettings: Sendable {
    /// Publisher name → public key (`ed25519:BASE64`).
    public var publishers: [String: String] = [:]
    /// Revoked public keys.
    public var revoked: Set<String> = []

    public init(publishers: [String: String] = [:], revoked: Set<String> = []) {
        self.publishers = publishers
        self.revoked = revoked
    }

    public var requiresSignatures: Bool { !publishers.isEmpty }

    /// Why `manifest` may not be loaded here, or nil. `allowUnsigned`: the
    /// deployment lets this plugin load without a signature.
    public func refusal(_ manifest: PluginManifest, allowUnsigned: Bool, path: String?) -> PluginLoadError? {
        let id = manifest.id
        guard let publisher = manifest.publisher, let signature = publisher.signature else {
            guard requiresSignatures, !allowUnsigned else { return nil }
            return PluginLoadError(.unsigned, path: path, pluginID: id,
                                   message: "its manifest is not signed, and this deployment loads only signed plugins "
                                       + "(trust.publishers: \(publishers.keys.sorted().joined(separator: ", ")))",
                                   remedy: "Install the publisher's signed manifest, sign it yourself (`trellis plugins sign`), "
                                       + "or set `allow_unsigned: true` for \(id) while developing it")
        }
        if let key = publisher.key, revoked.contains(key) {
            return PluginLoadError(.revokedKey, path: path, pluginID: id,
                                   message: "its manifest is signed by \(publisher.name)'s key \(Self.short(key)), which this deployment has revoked",
                                   remedy: "Install a manifest the publisher signed with a key it still uses")
        }
        let trusted = publishers[publisher.name]
        if requiresSignatures, trusted == nil {
            return PluginLoadError(.untrustedPublisher, path: path, pluginID: id,
                                   message: "its publisher '\(publisher.name)' is not one this deployment trusts "
                                       + "(trust.publishers: \(publishers.keys.sorted().joined(separator: ", ")))",
                                   remedy: "Add the publisher's public key under trust.publishers if you trust it")
        }
        // The key to check with: the trusted one; with no trust list, the one the manifest names.
        guard let keyText = trusted ?? publisher.key, let key = PluginSignature.publicKey(keyText) else {
            return PluginLoadError(.badSignature, path: path, pluginID: id,
                                   message: "its signature cannot be checked: no usable public key for '\(publisher.name)'",
                                   remedy: "Give the publisher's key as ed25519:BASE64 under trust.publishers")
        }
        if revoked.contains(PluginSignature.publicText(key)) {
            return PluginLoadError(.revokedKey, path: path, pluginID: id,
                                   message: "\(publisher.name)'s key \(Self.short(keyText)) is revoked in this deployment",
                                   remedy: "Remove it from trust.publishers, or install a manifest signed with the publisher's new key")
        }
        guard let raw = Data(base64Encoded: signature),
              key.isValidSignature(raw, for: PluginSignature.canonicalBytes(manifest)) else {
            return PluginLoadError(.badSignature, path: path, pluginID: id,
                                   message: "its signature does not match the manifest: it was changed after \(publisher.name) signed it, "
                                       + "or signed with another key than \(Self.short(keyText))",
                                   remedy: "Reinstall the manifest from its publisher; do not edit a signed manifest")
        }
        return nil
    }

    static func short(_ key: String) -> String {
        key.count > 20 ? String(key.prefix(20)) + "…" : key
    }
}
