import SmartCardCore

/// T=0 transport behaviour (reference `cps3-card.md` §2: the contact CPS3 is T=0 only).
///
/// - A case-4 command (data in, data out) never returns its data directly: the card answers `61xx`
///   (xx = 00 for 256) and keeps the response for GET RESPONSE `00 C0 00 00 xx`.
/// - GET RESPONSE with xx below what is left returns xx bytes and `61yy` for the rest; with xx equal to
///   it, the bytes and the command's own status word; with xx above it, `6Cyy` with the exact count.
/// - GET RESPONSE with nothing pending answers 6985 (conditions of use not satisfied): our choice, the
///   reference does not say; ISO/IEC 7816-4 leaves it to the card.
/// - Any other command drops a pending response, as a T=0 card does.
/// - Case-2 Le mismatches (`6Cxx`) are decided by each command, before it has any effect.
extension CardMachine {
    /// Answers raw command bytes with raw response bytes (data ‖ SW1 SW2).
    mutating func process(_ bytes: [UInt8]) -> [UInt8] {
        if persistent.cardGeneration == .cps4 { return processCPS4(bytes) }
        guard let command = try? CommandAPDU(bytes: bytes) else {
            volatile.pendingResponse = nil
            return Reply.status(.wrongLength).wireBytes
        }
        let isCPS2ter = command.cla == CPS2ter.classByte
        if (command.cla == CPS3.classISO || isCPS2ter) && command.ins == CPS3.insGetResponse {
            return getResponse(command).wireBytes
        }
        volatile.pendingResponse = nil
        let reply = dispatch(command)
        guard !command.data.isEmpty, !reply.data.isEmpty else { return reply.wireBytes }
        volatile.pendingResponse = reply
        // CPS2ter (GSM style) says "response available" with 9F xx, IAS with 61 xx.
        let available = UInt8(truncatingIfNeeded: min(reply.data.count, 256))
        let status = isCPS2ter ? StatusWord(rawValue: 0x9F00 | UInt16(available)) : .bytesAvailable(available)
        return Reply.status(status).wireBytes
    }

    mutating func getResponse(_ command: CommandAPDU) -> Reply {
        guard command.p1 == 0, command.p2 == 0 else { return .status(.incorrectP1P2) }
        guard let pending = volatile.pendingResponse else { return .status(.conditionsOfUseNotSatisfied) }
        let available = pending.data.count
        let requested = command.expectedLength ?? 0
        if requested > min(available, 256) || requested == 0 {
            return .status(.wrongLe(exact: UInt8(truncatingIfNeeded: min(available, 256))))
        }
        let chunk = Array(pending.data.prefix(requested))
        let rest = Array(pending.data.dropFirst(requested))
        if rest.isEmpty {
            volatile.pendingResponse = nil
            return Reply(data: chunk, pending.statusWord)
        }
        volatile.pendingResponse = Reply(data: rest, pending.statusWord)
        return Reply(data: chunk, .bytesAvailable(UInt8(truncatingIfNeeded: min(rest.count, 256))))
    }
}

extension Reply {
    var wireBytes: [UInt8] { data + [statusWord.sw1, statusWord.sw2] }
}
