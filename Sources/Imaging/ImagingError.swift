/// Errors of image decoding and preprocessing. Every bad input ends here, never in a crash.
public enum ImagingError: Error, Equatable, Sendable {
    case unsupportedFormat(String)
    case corrupt(String)
    case tooLarge(String)
    case invalidArgument(String)
}
