import Foundation

/// libFuzzer's entry point for a program that has its own `main` (SwiftPM names every executable's
/// entry point, so libFuzzer's `main` cannot be used): runs the fuzzing loop with `callback`.
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// The target's body; a C callback cannot capture it, so it waits here.
nonisolated(unsafe) private var body: ((UnsafeRawBufferPointer) -> Void)?

public enum FuzzDriver {
    /// Hands the process to libFuzzer, which calls `target` with each input (the command line is
    /// libFuzzer's: corpus folders, -max_total_time=, -runs=, a crash file to replay…).
    public static func run(_ target: @escaping (UnsafeRawBufferPointer) -> Void) -> Never {
        body = target
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        let status = LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            body?(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        }
        exit(status)
    }
}
