/// Whether the caller runs inside a Swift task: `CardService.performBlocking` must only be called from dedicated
/// threads, never from the cooperative pool (STYLE.md rule 6).
enum TaskContext {
    static var isInsideTask: Bool { withUnsafeCurrentTask { $0 != nil } }
}
