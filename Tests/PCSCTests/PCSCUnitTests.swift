@testable import PCSC
import SmartCardCore
import Dispatch
import Testing

@Suite("PC/SC wrapper, without pcscd")
struct PCSCUnitTests {
    @Test("multi-strings split on NUL and stop at the empty string")
    func multiString() {
        let buffer: [CChar] = Array("Reader A\0Reader B 00 01\0\0garbage".utf8CString.dropLast()).map { $0 }
        #expect(parseMultiString(buffer) == ["Reader A", "Reader B 00 01"])
        #expect(parseMultiString([0]).isEmpty)
        #expect(parseMultiString([]).isEmpty)
        // No final NUL: the last name is still read and nothing past the buffer.
        #expect(parseMultiString(Array("X".utf8CString.dropLast())) == ["X"])
    }

    @Test("PC/SC codes fold into the card error groups callers act on", arguments: [
        (PCSCError.Code.removedCard, CardError.Code.cardRemoved),
        (.resetCard, .cardReset),
        (.noService, .serviceUnavailable),
        (.noReadersAvailable, .noReaders),
        (.sharingViolation, .sharingViolation),
        (.unknownReader, .unknownReader),
        (.noAccess, .accessDenied),
        // pcsc-lite 1.9.9's client library answers a polkit refusal with SCARD_W_SECURITY_VIOLATION
        // (the connection closed unread on access_pcsc, or SCardConnect refused on access_card).
        (.securityViolation, .accessDenied),
        (.cancelled, .cancelled),
        (.notTransacted, .cardRemoved),
    ])
    func mapping(code: PCSCError.Code, expected: CardError.Code) {
        let error = PCSCError(code: code, function: "SCardTransmit")
        #expect(error.cardError.code == expected)
        #expect(error.description.contains("SCardTransmit"))
        #expect(error.description.contains(code.name))
    }

    @Test("codes print with their PC/SC name and hex value")
    func names() {
        #expect(PCSCError.Code.noService.description == "SCARD_E_NO_SERVICE (0x8010001D)")
        #expect(PCSCError.Code(rawValue: 0x8010_0099).name == "SCARD_0x80100099")
        #expect(!PCSCError.Code(rawValue: 0x8010_0099).isKnown)
    }

    @Test("backoff doubles from 100 ms up to 2 s and resets")
    func backoff() {
        var backoff = Backoff()
        let delays = (0..<7).map { _ in backoff.next() }
        #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800),
                           .milliseconds(1600), .milliseconds(2000), .milliseconds(2000)])
        backoff.reset()
        #expect(backoff.next() == .milliseconds(100))
    }
}
