/// A process of this machine as /proc shows it, for findings that name who holds something.
package struct LocalProcess: Hashable, CustomStringConvertible {
    package let pid: Int32
    /// The executable path, or the short command name when the executable cannot be read (another user's
    /// process), or "?".
    package let program: String
    package let uid: UInt32?

    package init(pid: Int32, program: String, uid: UInt32?) {
        self.pid = pid
        self.program = program
        self.uid = uid
    }

    /// The program's file name ("cpsd", "python3.11").
    package var name: String { program.split(separator: "/").last.map(String.init) ?? program }

    package var description: String { "\(name) (pid \(pid)\(program.hasPrefix("/") ? ", \(program)" : ""))" }
}
