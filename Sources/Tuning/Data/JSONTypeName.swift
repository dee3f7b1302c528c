import Foundation

/// Names the JSON type of a value from `JSONSerialization`, for messages like "must be a string, not a number".
enum JSONTypeName {
    static func of(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case is String: return "a string"
        case is [Any]: return "a list"
        case is [String: Any]: return "an object"
        case let number as NSNumber:
            // JSONSerialization gives booleans as NSNumber too; only they have the C type "c" (char).
            return String(cString: number.objCType) == "c" ? "a boolean" : "a number"
        default: return "a \(type(of: value))"
        }
    }
}
