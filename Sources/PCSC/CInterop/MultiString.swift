/// Parses a PC/SC multi-string ("reader A\0reader B\0\0") into its strings. Stops at the empty
/// string or at the end of the buffer, whichever comes first, so a buffer without its final NUL
/// cannot be over-read.
func parseMultiString(_ buffer: [CChar]) -> [String] {
    var names: [String] = []
    var current: [UInt8] = []
    for char in buffer {
        if char == 0 {
            if current.isEmpty { break }
            names.append(String(decoding: current, as: UTF8.self))
            current.removeAll(keepingCapacity: true)
        } else {
            current.append(UInt8(bitPattern: char))
        }
    }
    if !current.isEmpty { names.append(String(decoding: current, as: UTF8.self)) }
    return names
}
