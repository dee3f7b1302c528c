import Foundation

/// The `*.expected.json` written beside the Python fixtures by make_safetensors_fixtures.py.
struct SafeTensorsExpectedValues: Decodable {
    let metadata: [String: String]
    let tensors: [String: Tensor]

    struct Tensor: Decodable {
        let dtype: String
        let shape: [Int]
        let float32Bits: [ExpectedFloat]?
        let int64: [String]?
        let bytesHex: String

        enum CodingKeys: String, CodingKey {
            case dtype, shape, int64
            case float32Bits = "float32_bits"
            case bytesHex = "bytes_hex"
        }

        /// The stored bytes decoded from hex.
        var bytes: [UInt8] {
            var result: [UInt8] = []
            var characters = bytesHex.makeIterator()
            while let high = characters.next(), let low = characters.next() {
                result.append(UInt8(String([high, low]), radix: 16)!)
            }
            return result
        }
    }

    /// Float32 bits, or a NaN of a given sign (the script's reference canonicalises NaN payloads).
    enum ExpectedFloat: Decodable, Equatable {
        case bits(UInt32)
        case nan(negative: Bool)

        init(from decoder: Decoder) throws {
            let value = try decoder.singleValueContainer()
            if let bits = try? value.decode(UInt32.self) {
                self = .bits(bits)
            } else {
                self = .nan(negative: try value.decode(String.self) == "-NaN")
            }
        }

        /// Whether `value` is exactly this expectation.
        func matches(_ value: Float) -> Bool {
            switch self {
            case .bits(let bits): return value.bitPattern == bits
            case .nan(let negative): return value.isNaN && (value.sign == .minus) == negative
            }
        }
    }

    static func load(_ url: URL) throws -> SafeTensorsExpectedValues {
        try JSONDecoder().decode(SafeTensorsExpectedValues.self, from: Data(contentsOf: url))
    }
}
