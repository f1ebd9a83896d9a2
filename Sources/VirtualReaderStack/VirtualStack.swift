package import Foundation
import Glibc
package import SmartCardCore
import Synchronization

/// A complete private PC/SC stack: the real pcscd with vpcd readers, and simulated cards plugged in
/// through `VpcdLink`s. Used by `cps-vcard stack`, by integration tests and by the daemon's demo.
///
/// Everything lives under `directory` (see `StackLayout`). pcscd runs in a private mount namespace
/// where `directory/run` is bind-mounted over /run/pcscd, so several stacks — and a pcscd of the host —
/// coexist; clients reach this one with `environment` (PCSCLITE_CSOCK_NAME). The vpcd ports are random
/// free ports of the host network namespace. pcscd dies with the process that owns the stack, even on
/// SIGKILL (see `PCSCDProcess`).
package final class VirtualStack: Sendable {
    /// Timeout for pcscd's socket to appear and for each card to be powered.
    package static let readinessTimeout: Duration = .seconds(5)

    package let directory: URL
    package let readerCount: Int

    private struct State {
        var layout: StackLayout?
        var isolation: PCSCDProcess.Isolation = .privateMount
        var pcscd: PCSCDProcess?
        var links: [VpcdLink?]
        var stopped = false
        var coldStart: Duration?
    }

    private let state: Mutex<State>
    /// Serializes the slow lifecycle calls (start, stop, pcscd start and stop); `state` is held only briefly.
    private let lifecycle = Mutex(())

    /// `readerCount` is 0...16 (pcsc-lite's PCSCLITE_MAX_READERS_CONTEXTS). With an odd count pcscd also
    /// shows the unused second slot of the last vpcd entry. With 0, pcscd runs with no reader at all (the
    /// "no reader" case of a workstation without one).
    package init(directory: URL, readerCount: Int) {
        precondition((0...16).contains(readerCount), "a stack has 0 to 16 readers")
        self.directory = directory.standardizedFileURL
        self.readerCount = readerCount
        self.state = Mutex(State(links: Array(repeating: nil, count: readerCount)))
    }

    deinit { stop() }

    // MARK: - What clients need

    /// The pcscd socket clients must use: put it in PCSCLITE_CSOCK_NAME.
    package var socketPath: String {
        state.withLock { state in
            state.isolation == .hostSocket
                ? "/run/pcscd/pcscd.comm" : directory.appendingPathComponent("run/pcscd.comm").path
        }
    }

    /// The PC/SC names of the stack's readers, by index (pcscd lists them in no stable order).
    package var readerNames: [String] {
        let layout = StackLayout(directory: directory, readerCount: readerCount, basePort: 0)
        return (0..<readerCount).map(layout.readerName)
    }

    /// The vpcd TCP port of each reader (empty before `start`).
    package var readerPorts: [UInt16] {
        state.withLock { state in
            guard let layout = state.layout else { return [] }
            return (0..<readerCount).map(layout.port(ofReader:))
        }
    }

    /// The environment a PC/SC client of this stack needs: PCSCLITE_CSOCK_NAME, and
    /// CPSD_VIRTUAL_READERS with the reader names separated by commas.
    package var environment: [String: String] {
        ["PCSCLITE_CSOCK_NAME": socketPath, "CPSD_VIRTUAL_READERS": readerNames.joined(separator: ",")]
    }

    /// pcscd's log file.
    package var logPath: String { directory.appendingPathComponent("pcscd.log").path }

    /// How long the last `start` took, from nothing to every card powered.
    package var coldStartDuration: Duration? { state.withLock { $0.coldStart } }

    // MARK: - Lifecycle

    /// Writes the configuration, starts pcscd, inserts `cards` (one optional card per reader, by index)
    /// and waits until each is powered. On failure everything started is stopped again.
    package func start(cards: [(any CardSimulator)?]) throws(VirtualStackError) {
        let clock = ContinuousClock()
        let begin = clock.now
        guard cards.count <= readerCount else {
            throw VirtualStackError(.invalidState, "\(cards.count) cards for \(readerCount) readers")
        }
        do throws(VirtualStackError) {
            try prepare()
            try launchPCSCD()
            for (index, card) in cards.enumerated() {
                if let card { insertCard(card, reader: index) }
            }
            for index in cards.indices where cards[index] != nil {
                guard waitUntilPowered(reader: index, timeout: Self.readinessTimeout) else {
                    throw VirtualStackError(
                        .cardNotPowered, "\(readerNames[index]) did not power its card:\n\(logTail())")
                }
            }
        } catch {
            stop()
            throw error
        }
        let elapsed = clock.now - begin
        state.withLock { $0.coldStart = elapsed }
    }

    private func prepare() throws(VirtualStackError) {
        try lifecycle.withLock { (_) throws(VirtualStackError) in
            let ready = state.withLock { !$0.stopped && $0.layout == nil }
            guard ready else { throw VirtualStackError(.invalidState, "a stack starts once") }
            let isolation: PCSCDProcess.Isolation
            if PCSCDProcess.canUnshareMount {
                isolation = .privateMount
            } else if PCSCDProcess.hostPCSCDIsRunning() {
                throw VirtualStackError(
                    .isolationUnavailable,
                    "cannot create a private mount namespace (unshare --mount needs root or user namespaces) "
                        + "and another pcscd already serves /run/pcscd/pcscd.comm")
            } else {
                isolation = .hostSocket
            }
            let entries = (readerCount + StackLayout.slotsPerEntry - 1) / StackLayout.slotsPerEntry
            let basePort = try PortPicker.pickBase(count: entries * StackLayout.slotsPerEntry)
            let layout = StackLayout(directory: directory, readerCount: readerCount, basePort: basePort)
            try layout.prepare()
            state.withLock { state in
                state.layout = layout
                state.isolation = isolation
            }
        }
    }

    /// Stops pcscd (SIGTERM, waits for it) and leaves the cards' links trying to reconnect.
    package func stopPCSCD() {
        lifecycle.withLock { _ in
            let (pcscd, layout) = state.withLock { state in
                defer { state.pcscd = nil }
                return (state.pcscd, state.layout)
            }
            pcscd?.stop(pidFile: layout.map { runDirectory(of: $0) + "/pcscd.pid" })
        }
    }

    /// Starts pcscd, waits for its socket, then for every inserted card to reconnect and be powered.
    package func startPCSCD() throws(VirtualStackError) {
        try launchPCSCD()
        let links = state.withLock { $0.links }
        for (index, link) in links.enumerated() where link?.isInserted == true {
            guard let link else { continue }
            if link.waitUntilPowered(timeout: Self.readinessTimeout / 2) { continue }
            // Seen under heavy load: a link's reconnection is not picked up by the new vpcd. Plugging the
            // card in again (a fresh connection) brings it back; a card that still stays dark is an error.
            link.remove()
            link.insert()
            guard link.waitUntilPowered(timeout: Self.readinessTimeout) else {
                throw VirtualStackError(
                    .cardNotPowered, "\(readerNames[index]) did not power its card again:\n\(logTail())")
            }
        }
    }

    /// Starts pcscd and waits for its socket.
    private func launchPCSCD() throws(VirtualStackError) {
        try lifecycle.withLock { (_) throws(VirtualStackError) in
            let (layout, isolation, running, stopped) = state.withLock {
                ($0.layout, $0.isolation, $0.pcscd, $0.stopped)
            }
            guard let layout, !stopped else { throw VirtualStackError(.invalidState, "the stack is not started") }
            if let running, !running.hasExited { return }
            let socket = socketPath
            do {
                try layout.removeStaleRunFiles()
                if isolation == .hostSocket {
                    for path in [socket, "/run/pcscd/pcscd.pid"] { unlink(path) }
                } else {
                    try FileManager.default.createDirectory(atPath: "/run/pcscd", withIntermediateDirectories: true)
                }
            } catch {
                throw VirtualStackError(.filesystem, "cannot prepare pcscd's run directory: \(error)")
            }
            let pcscd = try PCSCDProcess(layout: layout, isolation: isolation)
            state.withLock { $0.pcscd = pcscd }
            let deadline = ContinuousClock.now + Self.readinessTimeout
            while !Self.isSocket(socket) {
                if pcscd.hasExited {
                    throw VirtualStackError(.pcscdFailed, "pcscd exited during startup:\n\(layout.logTail())")
                }
                guard ContinuousClock.now < deadline else {
                    throw VirtualStackError(.pcscdTimeout, "no pcscd socket at \(socket) after 5 s:\n\(layout.logTail())")
                }
                usleep(5_000)
            }
        }
    }

    /// Stops and starts pcscd; clients see SCARD_E_NO_SERVICE on their old context.
    package func restartPCSCD() throws(VirtualStackError) {
        stopPCSCD()
        try startPCSCD()
    }

    /// Restarts pcscd configured with only the first `visibleReaders` readers (rounded up to whole vpcd
    /// entries of two), so a later call with more makes readers appear to running clients. Waits for the
    /// inserted cards of the visible readers to be powered; the others stay inserted, waiting for vpcd.
    package func restartPCSCD(readerCount visibleReaders: Int) throws(VirtualStackError) {
        precondition((0...readerCount).contains(visibleReaders), "0...\(readerCount) visible readers")
        stopPCSCD()
        guard let layout = state.withLock({ $0.layout }) else {
            throw VirtualStackError(.invalidState, "the stack is not started")
        }
        try layout.prepare()
        let entries = (visibleReaders + StackLayout.slotsPerEntry - 1) / StackLayout.slotsPerEntry
        for entry in entries..<layout.entryCount {
            unlink(layout.configDirectory.appendingPathComponent("vpcd-\(entry)").path)
        }
        try launchPCSCD()
        let visible = min(readerCount, entries * StackLayout.slotsPerEntry)
        let links = state.withLock { $0.links }
        for index in 0..<visible where links[index]?.isInserted == true {
            guard links[index]?.waitUntilPowered(timeout: Self.readinessTimeout) == true else {
                throw VirtualStackError(.cardNotPowered, "\(readerNames[index]) did not power its card:\n\(logTail())")
            }
        }
    }

    /// Removes every card and stops pcscd. Idempotent; also done on deinit.
    package func stop() {
        let links: [VpcdLink] = lifecycle.withLock { _ in
            state.withLock { state in
                guard !state.stopped else { return [] }
                state.stopped = true
                return state.links.compactMap { $0 }
            }
        }
        for link in links { link.stop() }
        stopPCSCD()
        state.withLock { state in
            if let layout = state.layout { try? layout.removeStaleRunFiles() }
        }
    }

    // MARK: - Cards

    /// Inserts `card` in reader `index`. The same card object as the current one is re-inserted on its
    /// existing link; another card replaces the current one (which is removed first).
    package func insertCard(_ card: any CardSimulator, reader index: Int) {
        let (old, link): (VpcdLink?, VpcdLink?) = state.withLock { state in
            guard let layout = state.layout, !state.stopped else { return (nil, nil) }
            if let current = state.links[index], current.card === card { return (nil, current) }
            let link = VpcdLink(card: card, host: "127.0.0.1", port: layout.port(ofReader: index))
            defer { state.links[index] = link }
            return (state.links[index], link)
        }
        old?.stop()
        link?.insert()
    }

    /// Pulls the card out of reader `index` (closes its connection).
    package func removeCard(reader index: Int) {
        state.withLock { $0.links[index] }?.remove()
    }

    /// Waits until reader `index`'s card is powered by pcscd (the card is then visible to clients).
    package func waitUntilPowered(reader index: Int, timeout: Duration) -> Bool {
        state.withLock { $0.links[index] }?.waitUntilPowered(timeout: timeout) ?? false
    }

    /// The last lines of pcscd's log.
    package func logTail(lines: Int = 15) -> String {
        StackLayout(directory: directory, readerCount: readerCount, basePort: 0).logTail(lines: lines)
    }

    private func runDirectory(of layout: StackLayout) -> String {
        state.withLock { $0.isolation } == .hostSocket ? "/run/pcscd" : layout.runDirectory.path
    }

    private static func isSocket(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFSOCK
    }
}
