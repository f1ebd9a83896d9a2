/// What the accept loop does after accept(2) fails: wait, then try again — never give up. Running out of
/// file descriptors (EMFILE/ENFILE) or kernel memory (ENOBUFS/ENOMEM) is temporary: a client or the
/// bridge lets go of one, and the next accept works. Retrying at once would spin a core while the
/// pending connection stays in the backlog, so the wait doubles from `initial` to `maximum`, and starts
/// over after an accept that works. One log line when an episode starts and one when it ends, not one
/// per failed try.
///
/// Pure state: the loop does the waiting and the logging.
package struct AcceptBackoff: Sendable, Equatable {
    package let initial: Duration
    package let maximum: Duration
    /// The wait after the next failure; `initial` outside an episode.
    package private(set) var nextDelay: Duration
    /// Failed accepts since the last one that worked.
    package private(set) var failures: Int = 0

    package init(initial: Duration = .milliseconds(10), maximum: Duration = .seconds(1)) {
        precondition(initial > .zero && maximum >= initial)
        self.initial = initial
        self.maximum = maximum
        nextDelay = initial
    }

    /// What to do after a failed accept.
    package struct Step: Sendable, Equatable {
        /// How long to wait before accepting again.
        package let delay: Duration
        /// True for the first failure of an episode: the moment to log.
        package let startsEpisode: Bool

        package init(delay: Duration, startsEpisode: Bool) {
            self.delay = delay
            self.startsEpisode = startsEpisode
        }
    }

    /// Records a failed accept; returns how long to wait.
    package mutating func failed() -> Step {
        let step = Step(delay: nextDelay, startsEpisode: failures == 0)
        failures += 1
        nextDelay = min(nextDelay * 2, maximum)
        return step
    }

    /// Records an accept that worked. Returns how many had failed before it (0: no episode was going on).
    package mutating func succeeded() -> Int {
        defer {
            failures = 0
            nextDelay = initial
        }
        return failures
    }
}
