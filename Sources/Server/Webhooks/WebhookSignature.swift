import COpenSSL
import Foundation

/// The Standard Webhooks signature (standardwebhooks.com): HMAC-SHA256 over
/// `"{webhook-id}.{webhook-timestamp}.{body}"` with the secret's key, sent as
/// `webhook-signature: v1,<base64>`. A receiver recomputes it, compares in constant time, and refuses
/// timestamps far from its clock (replays).
enum WebhookSignature {
    static func sign(id: String, timestamp: Int64, body: [UInt8], key: [UInt8]) -> String {
        "v1," + Data(hmacSHA256(key: key, message: Array("\(id).\(timestamp).".utf8) + body)).base64EncodedString()
    }

    /// HMAC-SHA256 through libcrypto (RFC 2104).
    static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        key.withUnsafeBytes { k in
            message.withUnsafeBufferPointer { m in
                _ = HMAC(EVP_sha256(), k.baseAddress, Int32(key.count), m.baseAddress, m.count, &digest, &length)
            }
        }
        return digest
    }
}
