/// How `ImageDecoder` turns encoded bytes into RGB.
public struct DecodeOptions: Sendable, Equatable {
    /// Size limits checked before decoding pixels.
    public var limits: DecodeLimits
    /// Colour that transparent pixels are composited over (PIL's `alpha_composite` rounding);
    /// `nil` drops the alpha channel instead, as PIL's `convert("RGB")` does.
    public var alphaBackground: RGBColor?
    /// Whether to apply the EXIF orientation, as PIL's `ImageOps.exif_transpose` does.
    public var appliesOrientation: Bool

    /// Options with the reference pipelines' defaults: composite over white, apply orientation.
    public init(limits: DecodeLimits = .default, alphaBackground: RGBColor? = .white,
                appliesOrientation: Bool = true) {
        self.limits = limits
        self.alphaBackground = alphaBackground
        self.appliesOrientation = appliesOrientation
    }
}
