import CardTestSupport
import Foundation
import Testing

/// cpsd's configuration file, and its reload on SIGHUP.
@Suite("cpsd configuration")
struct DaemonConfigurationTests {
    @Test("SIGHUP reloads the file; a broken file is refused and the previous settings stay; cpsd keeps serving")
    func reload() async throws {
        try await RealStack.withStack { stack in
            let directory = TestCards.temporaryDirectory("cpsd-conf").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let script = """
                cd \(directory)
                printf '# cpsd settings\\nlog-level = info\\npin-idle-timeout = 0   # until logout\\n' > cpsd.conf
                \(ToolRunner.executable("cpsd")) --config cpsd.conf --socket \(directory)/pkcs11 --no-bridge 2>cpsd.log &
                cpsd=$!
                for i in $(seq 200); do [ -S pkcs11 ] && break; sleep 0.02; done
                printf 'log-level = debug\\npin-idle-timeout = 600\\nverified-hold-ms = 250\\n' > cpsd.conf
                kill -HUP $cpsd; sleep 0.5
                printf 'pin-idle-timeout = soon\\n' > cpsd.conf
                kill -HUP $cpsd; sleep 0.5
                P11_KIT_SERVER_ADDRESS=unix:path=\(directory)/pkcs11 timeout 20 pkcs11-tool \
                    --module /usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so -L
                kill -TERM $cpsd; wait $cpsd
                echo "cpsd exit status: $?"
                cat cpsd.log >&2
                """
            let result = try ToolRunner.shell(script, environment: stack.environment, timeout: 60)
            #expect(result.stderr.contains("configuration reloaded"), "\(result.stderr)")
            #expect(result.stderr.contains("pin_idle_timeout=600.0 seconds"))
            #expect(result.stderr.contains("verified_hold=0.25 seconds"))
            #expect(result.stderr.contains("cpsd.conf:1: pin-idle-timeout takes seconds"))
            #expect(result.stderr.contains("configuration not reloaded"))
            #expect(result.stdout.contains("CPS3v3-"), "still serving after a refused reload")
            #expect(result.stdout.contains("cpsd exit status: 0"))
        }
    }

    @Test("SIGTERM stops cpsd's services in order: the bridge, then the PKCS#11 socket, then the readers")
    func shutdownOrder() async throws {
        try await RealStack.withStack { stack in
            let directory = TestCards.temporaryDirectory("cpsd-stop").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let port = Int.random(in: 37_000..<38_000)
            let script = """
                cd \(directory)
                export XDG_STATE_HOME=\(directory)/state XDG_CONFIG_HOME=\(directory)/config
                \(ToolRunner.executable("cpsd")) --socket \(directory)/pkcs11 --bridge-port \(port) 2>cpsd.log &
                cpsd=$!
                for i in $(seq 500); do [ -S pkcs11 ] && grep -q "bridge listening" cpsd.log && break; sleep 0.02; done
                P11_KIT_SERVER_ADDRESS=unix:path=\(directory)/pkcs11 timeout 20 pkcs11-tool \
                    --module /usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so -L
                kill -TERM $cpsd; wait $cpsd
                echo "cpsd exit status: $?"
                cat cpsd.log >&2
                """
            let result = try ToolRunner.shell(script, environment: stack.environment, timeout: 60)
            #expect(result.stdout.contains("CPS3v3-"), "the socket opened once the card was read: \(result.stdout)")
            #expect(result.stdout.contains("cpsd exit status: 0"))
            let lines = result.stderr.split(separator: "\n").map(String.init)
            let order = ["bridge stopped", "PKCS#11 server stopped", "reader registry stopped", "cpsd stopped"].map { mark in
                lines.firstIndex { $0.contains(mark) }
            }
            #expect(order.allSatisfy { $0 != nil }, "\(result.stderr)")
            #expect(order.compactMap { $0 } == order.compactMap { $0 }.sorted(), "\(result.stderr)")
        }
    }

    @Test("a malformed configuration stops cpsd at start with the line at fault")
    func badFile() throws {
        let directory = TestCards.temporaryDirectory("cpsd-conf").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "log-level = loud\n".write(toFile: "\(directory)/cpsd.conf", atomically: true, encoding: .utf8)
        let result = try ToolRunner.run(
            ToolRunner.executable("cpsd"), ["--config", "\(directory)/cpsd.conf", "--socket", "\(directory)/pkcs11", "--no-bridge"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("cpsd.conf:1: unknown log level loud"))
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/pkcs11"))
    }
}
