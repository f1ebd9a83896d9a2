import BridgeProtocol
import LocalCA
import Testing

@testable import Diagnostics

/// bridge.listening, bridge.port and the bridge settings, with /proc, the CA file and the HTTPS answer faked.
@Suite("diag: the browser bridge")
struct BridgeCheckTests {
    static let port = BridgeEndpoint.defaultPort

    /// A CA file where cpsd keeps it: the listening check hands its text to the HTTPS probe, which the
    /// fake answers without reading it.
    static func withCA(_ fixture: DiagFixture) -> DiagFixture {
        let store = LocalIdentityStore(directory: LocalIdentityStore.defaultDirectory(environment: fixture.variables))
        fixture.files.write(store.caPath, "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n")
        return fixture
    }

    @Test("port free and cpsd stopped: the port is ok, listening is skipped")
    func portFree() throws {
        let runner = DiagFixture().runner()
        runner.bridgeChecks()
        #expect(runner.check("bridge.port")?.status == .ok)
        #expect(runner.check("bridge.port")?.finding == "port \(Self.port) (the default) is free for cpsd's bridge")
        #expect(runner.check("bridge.listening")?.status == .skip)
    }

    @Test("the port held by another program of this user: a failure naming it, and how to move the bridge")
    func portHeldBySomeoneElse() throws {
        let fixture = DiagFixture()
        fixture.addLoopbackListener(port: Self.port, uid: DiagFixture.userID, inode: 5555)
        fixture.addProcess(321, program: "/usr/bin/python3", sockets: [5555])
        let runner = fixture.runner()
        runner.bridgeChecks()
        let port = try #require(runner.check("bridge.port"))
        #expect(port.status == .fail)
        #expect(port.finding == "port \(Self.port) (the default) is held by python3 (pid 321, /usr/bin/python3): cpsd's bridge cannot listen there")
        #expect(port.remedy?.hasPrefix("Close that program, or move cpsd's bridge") == true)
        let listening = try #require(runner.check("bridge.listening"))
        #expect(listening.status == .fail)
        #expect(listening.finding.contains("there is no local CA"))
    }

    @Test("the port held by a process of another user that cannot be seen: a failure giving its uid")
    func portHeldByInvisibleProcess() throws {
        let fixture = DiagFixture()
        fixture.addLoopbackListener(port: Self.port, uid: 0, inode: 6666)
        let runner = fixture.runner()
        runner.bridgeChecks()
        let port = try #require(runner.check("bridge.port"))
        #expect(port.status == .fail)
        #expect(port.finding.contains("held by a process of uid 0 that this user cannot see"))
    }

    @Test("a second cpsd holding the port: a warning to run one per session")
    func portHeldByAnotherDaemon() throws {
        let fixture = DiagFixture()
        fixture.addLoopbackListener(port: Self.port, uid: DiagFixture.userID, inode: 7777)
        fixture.addProcess(555, program: "/usr/bin/cpsd", sockets: [7777])
        let runner = fixture.runner()
        runner.daemonPID = 777
        fixture.addProcess(777, program: "/usr/bin/cpsd")
        runner.bridgeChecks()
        let port = try #require(runner.check("bridge.port"))
        #expect(port.status == .warn)
        #expect(port.finding.contains("held by another cpsd, cpsd (pid 555"))
    }

    @Test("this user's cpsd, whose sockets a non-dumpable process hides: the port is taken for cpsd's")
    func hiddenOwnDaemon() throws {
        let fixture = Self.withCA(DiagFixture())
        fixture.addLoopbackListener(port: Self.port, uid: DiagFixture.userID, inode: 8888)
        fixture.addProcess(777, program: "/usr/bin/cpsd")
        var configured = fixture
        configured.bridge.answer = (200, BridgeEndpoint.protocolName, "1.4.2")
        let runner = configured.runner()
        runner.daemonPID = 777
        runner.bridgeChecks()
        #expect(runner.check("bridge.port")?.status == .ok)
        #expect(runner.check("bridge.port")?.finding.contains("as far as can be seen") == true)
        let listening = try #require(runner.check("bridge.listening"))
        #expect(listening.status == .ok)
        #expect(listening.finding == "\(BridgeEndpoint.protocolName) answers on 127.0.0.1:\(Self.port) (the default), TLS verified with the local CA, cpsd version 1.4.2")
    }

    @Test("the bridge answering another protocol: a warning; not answering as the bridge: a failure")
    func listeningAnswers() throws {
        var fixture = Self.withCA(DiagFixture())
        fixture.addLoopbackListener(port: Self.port, uid: DiagFixture.userID, inode: 9999)
        fixture.addProcess(777, program: "/usr/bin/cpsd", sockets: [9999])
        fixture.bridge.answer = (200, "cps-bridge/2", "2.0")
        let newer = fixture.runner()
        newer.daemonPID = 777
        newer.bridgeChecks()
        #expect(newer.check("bridge.listening")?.status == .warn)
        #expect(newer.check("bridge.listening")?.finding.contains("speaks cps-bridge/2") == true)
        #expect(newer.check("bridge.port")?.finding == "port \(Self.port) (the default) is held by cpsd (pid 777)")

        fixture.bridge.answer = nil
        let refused = fixture.runner()
        refused.daemonPID = 777
        refused.bridgeChecks()
        let failure = try #require(refused.check("bridge.listening"))
        #expect(failure.status == .fail)
        #expect(failure.finding.hasSuffix("does not answer as cpsd's bridge: connection refused"))
        #expect(failure.remedy?.contains("The local CA was replaced") == true)
    }

    @Test("`bridge = off` in cpsd.conf: every bridge check skipped with that reason")
    func bridgeOff() throws {
        let fixture = DiagFixture()
        let conf = "\(DiagFixture.home)/.config/cpsd/cpsd.conf"
        fixture.files.write(conf, "# cpsd settings\nbridge = off\n")
        let runner = fixture.runner()
        runner.bridgeChecks()
        for id in DiagRunner.bridgeCheckIDs {
            #expect(runner.check(id)?.status == .skip)
            #expect(runner.check(id)?.finding == "the bridge is off: `bridge = off` in \(conf)")
        }
    }

    @Test("the port comes from cpsd's own --bridge-port, else cpsd.conf, and --bridge-port overrides both")
    func portSource() throws {
        let fixture = DiagFixture()
        fixture.files.write("\(DiagFixture.home)/.config/cpsd/cpsd.conf", "bridge-port = 40000\n")
        #expect(BridgeSettings.resolve(in: fixture.environment, daemon: nil, portOverride: nil).port == 40000)
        fixture.addProcess(777, program: "/usr/bin/cpsd", arguments: ["/usr/bin/cpsd", "--bridge-port=41000"])
        let daemon = fixture.environment.processes.process(777)
        let fromDaemon = BridgeSettings.resolve(in: fixture.environment, daemon: daemon, portOverride: nil)
        #expect(fromDaemon.port == 41000)
        #expect(fromDaemon.portSource == "--bridge-port of cpsd pid 777")
        #expect(BridgeSettings.resolve(in: fixture.environment, daemon: daemon, portOverride: 42000).port == 42000)
    }
}
