import CardTestSupport
import Foundation
import Testing

/// cpsd under socket activation (what cpsd.socket + cpsd.service do), with systemd's own activator.
@Suite("cpsd socket activation")
struct SocketActivationTests {
    @Test("systemd-socket-activate starts cpsd on the first client, which is served on the inherited socket")
    func activation() async throws {
        try await RealStack.withStack { stack in
            let directory = TestCards.temporaryDirectory("cpsd-sa").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            // One shell owns the activator (and so cpsd, which it becomes): started, used, stopped.
            let script = """
                cd \(directory)
                systemd-socket-activate -l \(directory)/pkcs11 -E PCSCLITE_CSOCK_NAME \(ToolRunner.executable("cpsd")) --socket \(directory)/pkcs11 --no-bridge 2>cpsd.log &
                activator=$!
                for i in $(seq 100); do [ -S pkcs11 ] && break; sleep 0.02; done
                P11_KIT_SERVER_ADDRESS=unix:path=\(directory)/pkcs11 timeout 20 pkcs11-tool \
                    --module /usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so -L
                kill -TERM $activator; wait $activator
                echo "cpsd exit status: $?"
                cat cpsd.log >&2
                """
            let result = try ToolRunner.shell(script, environment: stack.environment, timeout: 60)
            #expect(result.stdout.contains("CPS3v3-"), "\(result.output)")
            #expect(result.stdout.contains(stack.readerName(0)))
            #expect(result.stdout.contains("cpsd exit status: 0"))
            #expect(result.stderr.contains("Execing"), "systemd-socket-activate handed its socket over")
            #expect(result.stderr.contains("client#1 connected"))
            #expect(result.stderr.contains("cpsd stopped"))
        }
    }
}
