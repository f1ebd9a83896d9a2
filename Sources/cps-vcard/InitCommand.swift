import ArgumentParser
import Foundation
import Glibc
import SmartCardCore
import VirtualCard

/// `cps-vcard init`: provisions a new virtual card in a state directory.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a virtual CPS card in a state directory.",
        discussion: """
            The PIN is 1234 and the PUK 12345678 unless --pin-fd / --puk-fd name a file descriptor to read \
            them from (secrets never go on the command line).

            --generation cps4 makes a CPS4 (NXP ChipDoc: logical channel 1, ISO selection, RSA-PSS) instead of \
            a CPS3 (IAS-ECC); --atr chooses a CPS4's ATR: t0t1 (default, 3B 9B 18 80 01 …, T=0 and T=1) or t0 \
            (3B DC 18 FF …, T=0 only).
            """
    )

    static let defaultPIN: [UInt8] = Array("1234".utf8)
    static let defaultPUK: [UInt8] = Array("12345678".utf8)

    @Option(help: ArgumentHelp("Where the card's state is saved.", valueName: "dir")) var state: String
    @Option(name: .customLong("id-nat"), help: "National identifier of the holder.")
    var idNat = HolderProfile.testDefault.idNat
    @Option(help: "Holder's given name.") var givenName = HolderProfile.testDefault.givenName
    @Option(help: "Holder's surname.") var surname = HolderProfile.testDefault.surname
    @Option(help: "Holder's profession label.") var profession = HolderProfile.testDefault.profession
    @Option(help: "CPS, CPF, CPE, CDE, CPA or CDA.") var cardType = "CPS"
    @Option(help: "Organisation of a salaried holder.") var organization: String?
    @Option(help: "Ten-digit card serial (random by default).") var serial: String?
    @Option(help: ArgumentHelp("Certificates valid from (UTC).", valueName: "YYYY-MM-DD")) var notBefore: String?
    @Option(help: ArgumentHelp("Certificates valid until (UTC).", valueName: "YYYY-MM-DD")) var notAfter: String?
    @Flag(help: "Make certificates that expired yesterday.") var expired = false
    @Option(help: ArgumentHelp("Certificates expire in N days.", valueName: "N")) var expiresInDays: Int?
    @Option(help: "PIN tries left (0 = blocked).") var pinTriesLeft = 3
    @Option(help: "PUK tries left (0 = blocked).") var pukTriesLeft = 3
    @Option(help: "Unblocks the card allows in its life.") var unblocksMax = 10
    @Option(help: "Unblocks left.") var unblocksLeft: Int?
    @Option(help: ArgumentHelp("Read the PIN from this file descriptor.", valueName: "fd")) var pinFd: Int32?
    @Option(help: ArgumentHelp("Read the PUK from this file descriptor.", valueName: "fd")) var pukFd: Int32?
    @Flag(help: "Replace an existing card.") var force = false
    @Option(help: "cps3 (IAS-ECC, default) or cps4 (NXP ChipDoc).") var generation = "cps3"
    @Option(help: ArgumentHelp("A CPS4's ATR: t0t1 (T=0 and T=1, default) or t0 (T=0 only).", valueName: "t0t1|t0"))
    var atr: String?
    @Option(help: ArgumentHelp(
        "none (default) or real: answer in a real card's time under `run`/`stack` (saved in state.json).",
        valueName: "none|real"))
    var timing: String?

    func validate() throws {
        _ = try TimingOption.parse(timing)
        guard CardGeneration(rawValue: generation) != nil else {
            throw ValidationError("--generation must be cps3 or cps4")
        }
        if let atr {
            guard CPS4ATRVariant(rawValue: atr) != nil else { throw ValidationError("--atr must be t0t1 or t0") }
            guard generation == "cps4" else { throw ValidationError("--atr applies to --generation cps4 only") }
        }
        guard CardType(rawValue: cardType) != nil else {
            throw ValidationError("--card-type must be one of CPS, CPF, CPE, CDE, CPA, CDA")
        }
        let expiries = [expired, expiresInDays != nil, notAfter != nil].filter { $0 }.count
        guard expiries <= 1 else { throw ValidationError("use only one of --expired, --expires-in-days, --not-after") }
    }

    func run() throws {
        let directory = URL(fileURLWithPath: state)
        if CardLoader.hasCard(in: directory) && !force {
            throw ValidationError("\(state) already holds a card; use --force to replace it")
        }
        let pin = try pinFd.map { try Self.readSecret(fd: $0, what: "PIN", lengths: 4...4) } ?? Self.defaultPIN
        let puk = try pukFd.map { try Self.readSecret(fd: $0, what: "PUK", lengths: 8...8) } ?? Self.defaultPUK
        let holder = HolderProfile(
            idNat: idNat, givenName: givenName, surname: surname, profession: profession,
            cardType: CardType(rawValue: cardType) ?? .cps, organization: organization)
        let (validFrom, validUntil) = try validity()
        var options = CardProvisioningOptions(
            holder: holder, serial: serial, pin: pin, puk: puk, notBefore: validFrom, notAfter: validUntil,
            pinTriesLeft: pinTriesLeft, pukTriesLeft: pukTriesLeft, unblocksMax: unblocksMax, unblocksLeft: unblocksLeft)
        options.generation = CardGeneration(rawValue: generation) ?? .cps3
        options.cps4ATR = atr.flatMap(CPS4ATRVariant.init(rawValue:))
        var card = try CardFactory.makeCard(options)
        card.timing = try TimingOption.parse(timing)
        if force { try CardLoader.removeCard(in: directory) }
        try CardStore(directory: directory).initialize(card)
        let kind = card.cardGeneration.rawValue.uppercased()
        status("\(kind) card \(card.serial) for \(holder.givenName) \(holder.surname) saved in \(state)")
    }

    private func validity() throws -> (Date?, Date?) {
        let day: TimeInterval = 86_400
        let from = try notBefore.map { try Self.date($0, option: "--not-before") }
        if expired { return (from ?? Date(timeIntervalSinceNow: -3 * 365 * day), Date(timeIntervalSinceNow: -day)) }
        if let expiresInDays { return (from, Date(timeIntervalSinceNow: Double(expiresInDays) * day)) }
        return (from, try notAfter.map { try Self.date($0, option: "--not-after") })
    }

    static func date(_ text: String, option: String) throws -> Date {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        guard let date = formatter.date(from: text) else { throw ValidationError("\(option) must be YYYY-MM-DD") }
        return date
    }

    /// Reads a secret of ASCII digits from an inherited descriptor (first line; the descriptor is closed).
    static func readSecret(fd: Int32, what: String, lengths: ClosedRange<Int>) throws -> [UInt8] {
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        guard let data = try? handle.readToEnd() else { throw ValidationError("cannot read the \(what) from fd \(fd)") }
        let line = data.prefix { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") }
        guard lengths.contains(line.count), line.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw ValidationError("the \(what) must be \(lengths.lowerBound)–\(lengths.upperBound) digits")
        }
        return Array(line)
    }
}
