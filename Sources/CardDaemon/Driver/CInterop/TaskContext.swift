/// Whether the caller runs inside a Swift task: the blocking bridge must only be used from dedicated
/// threads, never from the cooperative pool (STYLE.md rule 6).
enum TaskContext {
    static var isInsideTask: Bool { withUnsafeCurrentTask { $0 != nil } }
}
