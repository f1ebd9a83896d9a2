import Foundation
import SmartCardCore
import Testing
import VirtualCard

/// Channels, applications and files of the virtual CPS4 (cps4-card.md §2-§4).
@Suite struct CPS4SelectionTests {
    @Test func atrsAreTheCPS4OnesAndTheStateChoosesThem() {
        let t0t1 = CPS4Rig().card.atr
        let t0 = CPS4Rig(atr: .t0).card.atr
        #expect(t0t1 == bytes("3B 9B 18 80 01 00 12 25 00 64 80 04 01 00 00 90 44"))
        #expect(t0 == bytes("3B DC 18 FF 00 00 12 25 00 64 80 00 04 01 00 90 00"))
        // (SmartCardCore's CardKind takes the T=0-only one for a CPS3: its OpenSC CPS3 mask matches it first.)
        #expect(CardKind(atr: t0t1) == .cps4)
        #expect(CPS3Card(state: SimulatorFixture.state()).atr == CardKind.cps3ContactATR)
        // Both parse (TCK included), so a reader backend accepts them; the first offers T=1.
        #expect(throws: Never.self) { _ = try ATR(bytes: t0t1) }
        #expect((try? ATR(bytes: t0))?.isT0Only == true)
        #expect((try? ATR(bytes: t0t1))?.isT0Only == false)
    }

    @Test func provisioningMakesACPS4WhenAsked() throws {
        var options = CardProvisioningOptions(serial: "3100603746")
        options.generation = .cps4
        options.cps4ATR = .t0
        let state = try CardFactory.makeCard(options)
        #expect(state.generation == .cps4 && state.cps4ATR == .t0)
        #expect(state.tokenLabel == "CPS4v1-3100603746")
        #expect(CPS3Card(state: state).atr == CPS4ATRVariant.t0.bytes)
        // A CPS3 keeps the fields out of its state, as before CPS4 existed.
        #expect(try CardFactory.makeCard(CardProvisioningOptions()).generation == nil)
    }

    @Test func channelOneOpensOnlyBySelectingChipDoc() {
        let rig = CPS4Rig()
        #expect(rig.send("01 20 00 81").sw == 0x6881)
        #expect(rig.send("01 B0 00 00 00").sw == 0x6881)
        #expect(rig.send(CPS4Rig.selectChipDoc).sw == 0x9000)
        #expect(rig.send("01 20 00 81").sw == 0x63C3)
        // Channel 0 holds CPS2ter: ISO commands are not its class; channels 2-3 do not exist.
        #expect(rig.send("00 20 00 81").sw == 0x6E00)
        #expect(rig.send("02 20 00 81").sw == 0x6881)
        #expect(rig.send("00 A4 04 0C 08 80 25 00 00 01 FF 00 02").sw == 0x9000)
    }

    @Test func issuerDomainAndRecoverySelectAnswer9000() {
        let rig = CPS4Rig()
        #expect(rig.send("01 A4 04 0C 07 A0 00 00 01 51 00 00").sw == 0x9000)
        // The 6E00/6A86 recovery form: P2=04, case 3.
        #expect(rig.send("01 A4 04 04 08 80 25 00 00 01 FF 01 00").sw == 0x9000)
        #expect(rig.send("01 20 00 81").sw == 0x63C3)
    }

    @Test func selectByPathAnswersAnFCIWithSizeDescriptorAndFID() throws {
        let rig = CPS4Rig()
        rig.open()
        let fci = rig.send("01 A4 08 00 02 D0 03 00")
        #expect(fci.sw == 0x9000)
        #expect(fci.data.first == 0x6F)
        for element in ["80 02 00 0C", "81 02 00 0C", "82 01 01", "83 02 D0 03"] {
            #expect(fci.data.contains(bytes(element)), "\(element)")
        }
        let serial = rig.send("01 B0 00 00 0C")
        #expect(serial.sw == 0x9000)
        #expect(serial.data == bytes("5A 0A 80 25 00 00 01 99 21 38 45 0F"))
        // P2=0C: nothing back; by FID (P1=00, 02) as well; a missing file: 6A82.
        #expect(rig.send("01 A4 08 0C 02 2F 00") == ([], 0x9000))
        #expect(rig.send("01 A4 00 0C 02 3F 00").sw == 0x9000)
        #expect(rig.send("01 A4 02 0C 02 D0 03").sw == 0x9000)
        #expect(rig.send("01 A4 08 0C 02 D0 10").sw == 0x6A82)
    }

    @Test func pkcs15FilesNameTheCPS4TokenKeysAndObjects() throws {
        let rig = CPS4Rig()
        rig.open()
        let dir = rig.readFile([0x2F, 0x00])
        #expect(dir.contains(bytes("4F 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10")))
        #expect(dir.contains(bytes("51 04 3F 00 00 01")))
        let tokenInfo = rig.readFile([0x00, 0x01, 0x50, 0x32])
        #expect(tokenInfo.contains(Array("CPS4v1-\(SimulatorFixture.serial)".utf8)))
        #expect(tokenInfo.contains(Array("ASIP SANTE".utf8)))
        let odf = rig.readFile([0x00, 0x01, 0x50, 0x31])
        #expect(!odf.isEmpty)
        // The PrKDF the ODF names: key IDs …FF0010 10 / 20 and references 0x10 / 0x20.
        let prkdf = rig.readFile([0x00, 0x01, 0x44, 0x02])
        #expect(prkdf.contains(bytes("04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 10")))
        #expect(prkdf.contains(bytes("04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 20")))
        #expect(prkdf.contains(bytes("02 01 10")) && prkdf.contains(bytes("02 01 20")))
        let aodf = rig.readFile([0x00, 0x01, 0x44, 0x01])
        #expect(aodf.contains(bytes("80 01 81")) && aodf.contains(bytes("80 01 82")))
        let dodf = rig.readFile([0x00, 0x01, 0x44, 0x04])
        for label in ["CPS_DATA", "CPS_NAME_PS", "CPS2TER_ACTIVITY_01_PS", "CPS_SIT_FACT"] {
            #expect(dodf.contains(Array(label.utf8)), "\(label)")
        }
        let certificate = rig.readFile([0x00, 0x01, 0x44, 0x12])
        #expect(certificate == SimulatorFixture.signatureCertificate)
    }

    @Test func resetClosesChannelOneAndForgetsThePIN() {
        let rig = CPS4Rig()
        rig.open()
        #expect(rig.verifyPIN() == 0x9000)
        rig.card.reset()
        #expect(rig.send("01 20 00 81").sw == 0x6881)
        rig.open()
        #expect(rig.send("01 20 00 81").sw == 0x63C3)
    }

    @Test func oldStatesLoadAsCPS3AndCPS4Persists() throws {
        let old = try JSONEncoder().encode(SimulatorFixture.state())
        #expect(!String(decoding: old, as: UTF8.self).contains("generation"))
        #expect(try JSONDecoder().decode(CardState.self, from: old).cardGeneration == .cps3)
        let cps4 = SimulatorFixture.state().asGeneration(.cps4, atr: .t0)
        let decoded = try JSONDecoder().decode(CardState.self, from: try JSONEncoder().encode(cps4))
        #expect(decoded.cardGeneration == .cps4 && decoded.cps4ATR == .t0)
        #expect(decoded.tokenLabel == "CPS4v1-\(SimulatorFixture.serial)")
    }
}
