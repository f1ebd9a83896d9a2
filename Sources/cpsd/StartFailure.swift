/// cpsd's exit statuses when it does not start, distinct so that scripts and units can tell them apart.
enum StartFailure {
    /// The configuration file or the command line is wrong.
    static let configuration: Int32 = 2
    /// Another cpsd already serves this socket (it holds the instance lock).
    static let alreadyRunning: Int32 = 3
    /// The socket's directory is not the user's own 0700 directory.
    static let unsafeDirectory: Int32 = 4
}
