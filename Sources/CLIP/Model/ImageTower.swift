/// What `CLIPModel` asks of an image encoder, a ViT (`VisionTower`) or a ResNet (`ResNetTower`).
public protocol ImageTower: AnyObject, Sendable {
    var configuration: CLIPConfiguration { get }

    /// Projected image features [B, D] (not normalised) of preprocessed pixels [B, 3, S, S].
    func encode(pixels: UnsafePointer<Float>, batch: Int) -> [Float]

    /// The kernel its weights are packed for ("tagtune:avx512_panels", or oneDNN's "gemm:jit", "brg:avx512_core"), nil
    /// when they are plain float32 matrices multiplied by OpenBLAS.
    var packedImplementation: String? { get }

    /// Multiply-adds × 2 of one image through the tower as written (what other engines compute),
    /// and as this engine performs it (less where only one token is read out).
    var flopsPerImage: (written: Double, performed: Double) { get }
}
