/// The helper programs diag runs (dpkg-query, systemctl, ss, journalctl, cpsd --version, tar): the seam
/// tests replace with canned answers.
package protocol ProgramRunner {
    /// Runs `tool` when it exists; nil when it is missing or could not start.
    func run(_ tool: String, _ arguments: [String], environment: [String: String]?) -> (status: Int32, output: String)?
}
