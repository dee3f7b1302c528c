// A safetensors file as the server opens one: memory-mapped, its header validated, then every
// float tensor read (F32, F16, BF16, F64 conversion) when it is small.
import CLIP
import FuzzDriver

let file = FuzzDriver.scratchFile(named: "input.safetensors")

FuzzDriver.run { bytes in
    guard FuzzDriver.write(bytes, to: file), let tensors = try? SafeTensorsFile(url: file) else { return }
    for info in tensors.infos where info.elementCount <= 1 << 16 {
        _ = try? tensors.floats(info.name)
    }
}
