import COpenSSL
import Foundation

/// SHA-256 through the system's libcrypto (OpenSSL 3, which uses the CPU's SHA extensions):
/// content digests for model weights, images and artifacts.
public struct SHA256 {
    private let context: OpaquePointer

    public init() {
        context = EVP_MD_CTX_new()
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
    }

    /// Adds bytes to the digest.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        EVP_DigestUpdate(context, base, bytes.count)
    }

    /// Adds the bytes of an array or Data.
    public func update(_ bytes: some ContiguousBytes) { bytes.withUnsafeBytes { update($0) } }

    /// The digest as 64 lower-case hex digits; the hasher cannot be used afterwards.
    public func finish() -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        EVP_MD_CTX_free(context)
        return digest.map { String(format: "%02x", $0) }.joined()
    }

    /// The hex digest of some bytes.
    public static func hex(_ bytes: some ContiguousBytes) -> String {
        let hasher = SHA256()
        hasher.update(bytes)
        return hasher.finish()
    }

    /// The hex digest of files' contents, in order (read through a memory map in 64 MiB steps).
    public static func hex(files: [URL]) throws -> String {
        let hasher = SHA256()
        for url in files {
            let data = try Data(contentsOf: url, options: .alwaysMapped)
            data.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let end = min(raw.count, offset + (64 << 20))
                    hasher.update(UnsafeRawBufferPointer(rebasing: raw[offset..<end]))
                    offset = end
                }
            }
        }
        return hasher.finish()
    }
}
