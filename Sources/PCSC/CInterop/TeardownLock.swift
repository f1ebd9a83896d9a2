import Synchronization

/// One lock for every handle and context libpcsclite frees. libpcsclite (1.9.9, Debian 12) finds a card
/// handle by walking every context's channel list, while releasing a context frees that context's list:
/// two connections torn down at once on two threads (the readers retiring when cpsd stops, each on its
/// own thread) crashed cpsd inside libpcsclite. Teardown is rare and quick, so it is simply serialized.
enum TeardownLock {
    static let shared = Mutex(())
}
