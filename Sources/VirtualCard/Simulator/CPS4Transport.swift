import SmartCardCore

/// T=0 and T=1 framing of the virtual CPS4 (cps4-card.md §2, §7.1 "Le").
///
/// The card cannot see the protocol, only the command: under T=1 a case-4 command carries Le and gets its
/// data at once; under T=0 the middleware drops Le, so a case-4 command without Le is answered `61xx` and
/// its data is fetched by GET RESPONSE with the channel's CLA (`01 C0 00 00 xx`). With the T=0-only ATR
/// every case-4 answer goes through `61xx`, as a real T=0 card's must. Case-1 commands sent under T=0 carry
/// P3=00, which parses as Le=256 with no data: every CPS4 command treats an empty data field the same way
/// whether or not that Le is there. CPS2ter (CLA A0) keeps its GSM `9Fxx`.
extension CardMachine {
    mutating func processCPS4(_ bytes: [UInt8]) -> [UInt8] {
        guard let command = try? CommandAPDU(bytes: bytes) else {
            volatile.pendingResponse = nil
            return Reply.status(.wrongLength).wireBytes
        }
        let isCPS2ter = command.cla == CPS2ter.classByte
        if command.ins == CPS3.insGetResponse && (isCPS2ter || command.cla & 0xEC == 0) {
            return getResponse(command).wireBytes
        }
        volatile.pendingResponse = nil
        let reply = dispatchCPS4(command)
        guard !command.data.isEmpty, !reply.data.isEmpty else { return reply.wireBytes }
        let t0Only = persistent.cps4ATR == .t0
        guard isCPS2ter || t0Only || command.expectedLength == nil else { return reply.wireBytes }
        volatile.pendingResponse = reply
        let available = UInt8(truncatingIfNeeded: min(reply.data.count, 256))
        let status = isCPS2ter ? StatusWord(rawValue: 0x9F00 | UInt16(available)) : .bytesAvailable(available)
        return Reply.status(status).wireBytes
    }
}
