/// An 8-bit RGB colour, used as the background that transparent pixels are composited over.
public struct RGBColor: Sendable, Equatable, Hashable {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    /// A colour from its three 8-bit components.
    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// Opaque white, the background that the reference pipelines composite over.
    public static let white = RGBColor(red: 255, green: 255, blue: 255)
    /// Opaque black.
    public static let black = RGBColor(red: 0, green: 0, blue: 0)
}
