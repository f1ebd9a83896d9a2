import Diagnostics

/// Canned answers of helper programs, by command line; a command without an answer could not start.
final class FakePrograms: ProgramRunner {
    private var answers: [String: (status: Int32, output: String)] = [:]
    private(set) var ran: [String] = []

    func answer(_ tool: String, _ arguments: [String], status: Int32 = 0, output: String) {
        answers[Self.key(tool, arguments)] = (status, output)
    }

    func run(_ tool: String, _ arguments: [String], environment: [String: String]?) -> (status: Int32, output: String)? {
        ran.append(Self.key(tool, arguments))
        return answers[Self.key(tool, arguments)]
    }

    private static func key(_ tool: String, _ arguments: [String]) -> String { ([tool] + arguments).joined(separator: " ") }
}
