// libFuzzer drives FuzzTarget.image (Sources/FuzzTargets): what it decodes and checks is written there,
// where the test suite runs the same body on the committed corpus and regression inputs.
import FuzzDriver
import FuzzTargets

FuzzDriver.run { FuzzTarget.image.run($0) }
