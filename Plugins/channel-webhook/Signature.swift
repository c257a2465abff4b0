import CLibCrypto
import Foundation
import TrellisSDK

/// Standard Webhooks signing: HMAC-SHA256 over `id.timestamp.body`, sent as
/// `v1,<base64>`; one signature per secret, space-separated, so a receiver
/// rotating secrets accepts either.
struct WebhookSigner: Sendable {
    let keys: [[UInt8]]

    /// Secrets are `whsec_<base64 key>`; any other string is used as its own bytes.
    init(secrets: [String]) throws {
        keys = try secrets.map { secret in
            guard secret.hasPrefix("whsec_") else { return Array(secret.utf8) }
            guard let key = Data(base64Encoded: String(secret.dropFirst(6))), !key.isEmpty else {
                throw PluginError.config("a webhook secret starts with whsec_ but the rest is not base64")
            }
            return Array(key)
        }
    }

    /// The `webhook-signature` header value.
    func signature(id: String, timestamp: Int64, body: [UInt8]) throws -> String {
        let content = Array("\(id).\(timestamp).".utf8) + body
        return try keys.map { key in
            var digest = [UInt8](repeating: 0, count: 32)
            let ok = key.withUnsafeBytes { keyBytes in
                content.withUnsafeBufferPointer { data in
                    trellis_hmac_sha256(keyBytes.baseAddress, Int32(keyBytes.count), data.baseAddress, data.count, &digest)
                }
            }
            guard ok == 1 else { throw PluginError(.permanent, "signing the webhook failed (libcrypto HMAC)") }
            return "v1," + Data(digest).base64EncodedString()
        }.joined(separator: " ")
    }
}
