// The configuration loader: a YAML (or JSON) file as `--config` gives it, read, flattened into key
// paths, checked against the known keys and resolved into a ServerConfiguration.
import Foundation
import FuzzDriver
import Service

let file = FuzzDriver.scratchFile(named: "tagtune.yaml")

FuzzDriver.run { bytes in
    guard FuzzDriver.write(bytes, to: file) else { return }
    _ = try? ServerConfiguration.load(file: file.path, environment: [:], flags: [:])
}
