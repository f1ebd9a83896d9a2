import Testing

@testable import Diagnostics

/// cpsd.running, p11kit.module, p11kit.duplicates and middleware.cryptolib on a fake machine.
@Suite("diag: cpsd, p11-kit and Cryptolib")
struct SoftwareCheckTests {
    static let moduleDirectory = "/usr/share/p11-kit/modules"

    @Test("no cpsd socket: a warning with the socket unit to enable, and no pid")
    func daemonSocketMissing() throws {
        let fixture = DiagFixture()
        let runner = fixture.runner()
        runner.daemonChecks()
        let check = try #require(runner.check("cpsd.running"))
        #expect(check.status == .warn)
        #expect(check.finding == "cpsd is not running: nothing answers at \(DiagFixture.daemonSocket)")
        #expect(check.remedy == "systemctl --user enable --now cpsd.socket")
        #expect(runner.daemonPID == nil)
    }

    @Test("a socket file nobody serves is called stale")
    func staleSocketFile() throws {
        let fixture = DiagFixture()
        fixture.files.write(DiagFixture.daemonSocket, "")
        let runner = fixture.runner()
        runner.daemonChecks()
        #expect(runner.check("cpsd.running")?.finding.hasSuffix("(stale socket file)") == true)
    }

    @Test("cpsd serving its socket: ok with its pid, program and version; later checks get the pid")
    func daemonRunning() throws {
        let fixture = DiagFixture()
        fixture.sockets.serve(DiagFixture.daemonSocket, pid: 777, uid: DiagFixture.userID)
        fixture.addProcess(777, program: "/usr/bin/cpsd")
        fixture.programs.answer("/usr/bin/cpsd", ["--version"], output: "1.4.2\n")
        let runner = fixture.runner()
        runner.daemonChecks()
        let check = try #require(runner.check("cpsd.running"))
        #expect(check.status == .ok)
        #expect(check.finding == "cpsd answers at \(DiagFixture.daemonSocket) (pid 777, /usr/bin/cpsd, version 1.4.2)")
        #expect(runner.daemonPID == 777)
    }

    @Test("--daemon-socket and P11_KIT_SERVER_ADDRESS choose the socket; a non-unix address is a warning")
    func daemonAddress() throws {
        var fixture = DiagFixture()
        fixture.variables["P11_KIT_SERVER_ADDRESS"] = "tcp:127.0.0.1:1234"
        let runner = fixture.runner()
        runner.daemonChecks()
        #expect(runner.check("cpsd.running")?.finding == "P11_KIT_SERVER_ADDRESS is not a unix:path= address")
        fixture.options.daemonSocket = "/tmp/elsewhere.sock"
        let overridden = fixture.runner()
        overridden.daemonChecks()
        #expect(overridden.check("cpsd.running")?.finding.contains("/tmp/elsewhere.sock") == true)
    }

    @Test("p11-kit not installed: both p11-kit checks skipped")
    func p11KitMissing() throws {
        let runner = DiagFixture().runner()
        runner.p11KitChecks()
        #expect(runner.check("p11kit.module")?.status == .skip)
        #expect(runner.check("p11kit.duplicates")?.status == .skip)
    }

    @Test("cpsd's module file absent: a warning naming the module file to install")
    func moduleAbsent() throws {
        let fixture = DiagFixture()
        fixture.files.addExecutable("/usr/bin/p11-kit")
        fixture.files.write("\(Self.moduleDirectory)/p11-kit-trust.module", "module: p11-kit-trust.so\n")
        let runner = fixture.runner()
        runner.p11KitChecks()
        let module = try #require(runner.check("p11kit.module"))
        #expect(module.status == .warn)
        #expect(module.remedy?.contains("cpsd.module") == true)
        #expect(runner.check("p11kit.duplicates")?.finding == "no other smart-card module registered")
    }

    @Test("cpsd's module registered once: ok; OpenSC loaded beside it: a warning with the override to write")
    func modulePresentAndCompeting() throws {
        let fixture = DiagFixture()
        fixture.files.addExecutable("/usr/bin/p11-kit")
        fixture.files.write("\(Self.moduleDirectory)/cpsd.module", "module: p11-kit-client.so\n")
        let runner = fixture.runner()
        runner.p11KitChecks()
        #expect(runner.check("p11kit.module")?.status == .ok)
        #expect(runner.check("p11kit.module")?.finding.hasPrefix("registered once as \"cpsd\"") == true)
        #expect(runner.check("p11kit.duplicates")?.status == .ok)

        fixture.files.write("\(Self.moduleDirectory)/opensc-pkcs11.module", "module: opensc-pkcs11.so\n")
        let competing = fixture.runner()
        competing.p11KitChecks()
        let duplicates = try #require(competing.check("p11kit.duplicates"))
        #expect(duplicates.status == .warn)
        #expect(duplicates.finding.contains("opensc-pkcs11"))
        #expect(duplicates.remedy?.contains("/etc/pkcs11/modules/opensc-pkcs11.module") == true)
    }

    @Test("a competing module kept out of the programs that load cpsd's is not a duplicate")
    func competingModuleElsewhere() throws {
        let fixture = DiagFixture()
        fixture.files.addExecutable("/usr/bin/p11-kit")
        fixture.files.write("\(Self.moduleDirectory)/cpsd.module", "module: p11-kit-client.so\ndisable-in: ssh\n")
        fixture.files.write("\(Self.moduleDirectory)/opensc-pkcs11.module", "module: opensc-pkcs11.so\nenable-in: ssh\n")
        let runner = fixture.runner()
        runner.p11KitChecks()
        let duplicates = try #require(runner.check("p11kit.duplicates"))
        #expect(duplicates.status == .ok)
        #expect(duplicates.finding.contains("never loaded in the same program"))
    }

    @Test("a user's empty module file disables the package's, except for root, whose ~/.config p11-kit ignores")
    func userOverride() throws {
        let fixture = DiagFixture()
        fixture.files.addExecutable("/usr/bin/p11-kit")
        fixture.files.write("\(Self.moduleDirectory)/cpsd.module", "module: p11-kit-client.so\n")
        fixture.files.write("\(DiagFixture.home)/.config/pkcs11/modules/cpsd.module", "module:\n")
        let user = fixture.runner()
        user.p11KitChecks()
        #expect(user.check("p11kit.module")?.status == .warn)
        fixture.sockets.userID = 0
        let root = fixture.runner()
        root.p11KitChecks()
        #expect(root.check("p11kit.module")?.status == .ok)
    }

    @Test("Cryptolib absent: ok; installed: a warning on sharing the readers; cpsd's module at its path: ok")
    func cryptolib() throws {
        let fixture = DiagFixture()
        let absent = fixture.runner()
        absent.cryptolibCheck()
        #expect(absent.check("middleware.cryptolib")?.status == .ok)
        #expect(absent.check("middleware.cryptolib")?.finding.hasPrefix("Cryptolib CPS is not installed") == true)

        fixture.files.write(DiagRunner.cryptolibModulePath, "ELF")
        let installed = fixture.runner()
        installed.cryptolibCheck()
        let warning = try #require(installed.check("middleware.cryptolib"))
        #expect(warning.status == .warn)
        #expect(warning.remedy?.contains("rpm -e CryptolibCPS") == true)

        fixture.files.link(DiagRunner.cryptolibModulePath, to: "/usr/lib/x86_64-linux-gnu/cpsd/libcps3_pkcs11_lux.so")
        let ours = fixture.runner()
        ours.cryptolibCheck()
        #expect(ours.check("middleware.cryptolib")?.status == .ok)
        #expect(ours.check("middleware.cryptolib")?.finding.hasPrefix("cpsd's Cryptolib-compatible module") == true)
    }
}
