/// A request the bridge did not answer in time (a program squatting the port may never answer).
package struct BridgeClientTimeout: Error, CustomStringConvertible {
    package let seconds: Int64
    package var description: String { "no answer within \(seconds) s" }
}
