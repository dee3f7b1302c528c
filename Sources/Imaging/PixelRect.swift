/// An axis-aligned rectangle of pixels: origin at the top-left corner.
struct PixelRect: Equatable, Sendable {
    var x: Int
    var y: Int
    var width: Int
    var height: Int
}
