import CardTestSupport
import Foundation
import Testing

/// `cpsctl diag`'s reader-side findings on real pcscd processes: PIN pads, a card held exclusively by
/// another process, a pcscd with no reader at all, and a pcscd refusing the client as polkit makes it.
@Suite("cpsctl diag: readers, exclusive holders, no reader, polkit")
struct DiagReaderTests {
    @Test("vpcd readers have no PIN pad: readers.pinpad ok, found without touching the card")
    func pinPad() async throws {
        try await RealStack.withStack { stack in
            let before = DiagRun.counters(stack)
            let run = try DiagRun.run(stack, ["--reader", stack.readerName(0)])
            #expect(run.status("readers.pinpad") == "ok", "\(run.finding("readers.pinpad"))")
            for index in 0..<RealStack.readerCount {
                #expect(run.finding("readers.pinpad").contains("\"\(stack.readerName(index))\": no PIN pad"))
            }
            #expect(DiagRun.counters(stack) == before)
        }
    }

    @Test("a card held exclusively by another process: diag names the process, and the card is left alone")
    func exclusiveHolder() async throws {
        try await RealStack.withStack { stack in
            let before = DiagRun.counters(stack)
            let holder = try FixtureProcess("pcsc-exclusive.py", [stack.readerName(1)], environment: stack.environment)
            defer { holder.stop() }
            let run = try DiagRun.run(stack, ["--reader", stack.readerName(1)])
            let clients = run.finding("readers.clients")
            #expect(run.status("readers.clients") == "warn", "\(clients)")
            #expect(clients.contains("card held exclusively in \"\(stack.readerName(1))\" by "))
            #expect(clients.contains("python3"))
            #expect(clients.contains("(pid \(holder.pid)"))
            #expect(run.status("card.identity") == "fail", "\(run.finding("card.identity"))")
            #expect(run.finding("card.identity").contains("held exclusively by"))
            #expect(run.finding("card.identity").contains("(pid \(holder.pid)"))
            #expect(run.remedy("card.identity").contains("Close that program"))
            #expect(run.status("readers.pinpad") == "warn")
            #expect(run.finding("readers.pinpad").contains("held exclusively by another program"))
            #expect(run.status == 2)
            holder.stop()
            // Once the holder is gone, the card reads again and no counter moved.
            let after = try DiagRun.run(stack, ["--reader", stack.readerName(1)])
            #expect(after.status("readers.clients") == "ok", "\(after.finding("readers.clients"))")
            #expect(after.status("card.identity") == "ok")
            #expect(DiagRun.counters(stack) == before)
        }
    }

    @Test("no reader at all (`cps-vcard stack --readers 0`): readers.present fails and points to e-CPS")
    func noReader() throws {
        let stack = try StackProcessTests.StackProcess(arguments: ["--readers", "0"])
        defer {
            stack.send("quit")
            stack.process.waitUntilExit()
        }
        let run = try DiagRun.run(environment: DiagRun.home().1.merging(stack.environment) { $1 }, [])
        #expect(run.status("pcscd.reachable") == "ok")
        #expect(run.finding("pcscd.reachable").contains("no reader"))
        #expect(run.status("readers.present") == "fail")
        #expect(run.finding("readers.present").contains("no smart-card reader"))
        #expect(run.finding("readers.present").contains("e-CPS"))
        #expect(run.remedy("readers.present").contains("e-CPS app"))
        #expect(run.status("readers.pinpad") == "skip")
        #expect(run.status("card.present") == "skip")
        #expect(run.finding("card.present").contains("no reader"))
        #expect(run.status == 2)
    }

    /// Debian 12's pcscd is built without polkit, so a refusal cannot come from a real pcscd here. The
    /// helper does at the socket exactly what pcscd does when polkit says no (pcsc-lite's ContextThread:
    /// the connection is closed before anything is read), and the real libpcsclite reports it.
    @Test("pcscd refusing the client as polkit makes it: pcscd.reachable fails with the polkit remedy")
    func polkitRefusal() throws {
        let directory = TestCards.temporaryDirectory("cpsd-diag-polkit")
        let socket = directory.appendingPathComponent("pcscd.comm").path
        let refusing = try FixtureProcess("polkit-refusing-pcscd.py", [socket])
        defer { refusing.stop() }
        let run = try DiagRun.run(environment: DiagRun.home().1.merging(["PCSCLITE_CSOCK_NAME": socket]) { $1 }, [])
        #expect(run.status("pcscd.reachable") == "fail", "\(run.finding("pcscd.reachable"))")
        #expect(run.finding("pcscd.reachable").contains("pcscd refused this client: its polkit policy"))
        // SCARD_W_SECURITY_VIOLATION when libpcsclite's first message got out before the close (the usual
        // case, pcscd asking polkit first), SCARD_E_NO_SERVICE otherwise: both read as a refusal.
        let code = run.finding("pcscd.reachable")
        #expect(code.contains("SCARD_W_SECURITY_VIOLATION") || code.contains("SCARD_E_NO_SERVICE"))
        #expect(run.remedy("pcscd.reachable").contains("org.debian.pcsc-lite.access_pcsc"))
        #expect(run.remedy("pcscd.reachable").contains("not over SSH"))
        for id in ["readers.present", "card.present", "pin.tries"] {
            #expect(run.status(id) == "skip", "\(id)")
            #expect(run.finding(id).contains("polkit"), "\(id): \(run.finding(id))")
        }
        #expect(run.status == 2)
    }
}
