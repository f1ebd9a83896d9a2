import Crypto
import PartialHash
import Testing

private func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

private func sha256(_ message: [UInt8]) -> [UInt8] {
    var state = SHA256State()
    state.update(message)
    return state.finalize()
}

private func sha1(_ message: [UInt8]) -> [UInt8] {
    var state = SHA1State()
    state.update(message)
    return state.finalize()
}

private func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}

/// FIPS 180-4 example messages (NIST CSRC "Examples with intermediate values").
private let abc = Array("abc".utf8)
private let message448 = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
private let message896 = Array(
    ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
        + "mnopqrstnopqrstu").utf8)

@Suite struct NISTVectorTests {
    @Test func sha256Vectors() {
        #expect(hex(sha256(abc)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex(sha256(message448)) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(hex(sha256(message896)) == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        #expect(hex(sha256([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func sha1Vectors() {
        #expect(hex(sha1(abc)) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(hex(sha1(message448)) == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        #expect(hex(sha1(message896)) == "a49b2446a02c645bf419f995b67091253a04a259")
        #expect(hex(sha1([])) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
    }

    @Test func oneMillionA() {
        let million = [UInt8](repeating: 0x61, count: 1_000_000)
        #expect(hex(sha256(million)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        #expect(hex(sha1(million)) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    @Test func byteAtATimeEqualsOneShot() {
        var state = SHA256State()
        for byte in message896 { state.update(CollectionOfOne(byte)) }
        #expect(state.finalize() == sha256(message896))
    }
}

@Suite struct SwiftCryptoComparisonTests {
    static let lengths = [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 1 << 20]

    @Test(arguments: lengths) func matchesSwiftCrypto(length: Int) {
        let message = randomBytes(length)
        #expect(sha256(message) == Array(SHA256.hash(data: message)))
        #expect(sha1(message) == Array(Insecure.SHA1.hash(data: message)))
    }

    @Test func finalizeDoesNotConsume() {
        var state = SHA256State()
        state.update(abc)
        _ = state.finalize()
        #expect(state.finalize() == sha256(abc))
        #expect(state.pendingBytes == abc)
        #expect(state.processedBitCount == 0)
    }
}

@Suite struct ResumeTests {
    @Test(arguments: [0, 1, 63, 64, 65, 200, 300])
    func resumeAtEverySplitPoint(length: Int) throws {
        let message = randomBytes(length)
        for split in 0...length {
            var head256 = SHA256State()
            head256.update(message[0..<split])
            var resumed256 = try SHA256State(
                resumingFrom: head256.intermediateState, bitCount: head256.processedBitCount)
            resumed256.update(head256.pendingBytes + message[split...])
            #expect(resumed256.finalize() == Array(SHA256.hash(data: message)), "split \(split)")

            var head1 = SHA1State()
            head1.update(message[0..<split])
            var resumed1 = try SHA1State(resumingFrom: head1.intermediateState, bitCount: head1.processedBitCount)
            resumed1.update(head1.pendingBytes + message[split...])
            #expect(resumed1.finalize() == Array(Insecure.SHA1.hash(data: message)), "split \(split)")
        }
    }

    @Test func processedBitCountCountsCompleteBlocksOnly() {
        var state = SHA256State()
        state.update(randomBytes(100))
        #expect(state.processedBitCount == 512)
        #expect(state.pendingBytes.count == 36)
        #expect(state.intermediateState.count == 32)
    }

    @Test func unalignedBitCountIsRejected() {
        #expect(throws: PartialHashError(.bitCountNotBlockAligned, "")) {
            try SHA256State(resumingFrom: [UInt8](repeating: 0, count: 32), bitCount: 8)
        }
        #expect(throws: PartialHashError(.wrongStateLength, "")) {
            try SHA1State(resumingFrom: [UInt8](repeating: 0, count: 32), bitCount: 512)
        }
    }

    @Test func initialStateResumesLikeFreshState() throws {
        let fresh = SHA256State()
        var resumed = try SHA256State(resumingFrom: fresh.intermediateState, bitCount: 0)
        resumed.update(abc)
        #expect(resumed.finalize() == sha256(abc))
    }
}

@Suite struct CryptolibSplitTests {
    @Test func emptyMessageHasNoStateAndNoTail() {
        let split = SHA256State.cryptolibSplit([])
        #expect(split.state == nil)
        #expect(split.bitCount == 0)
        #expect(split.tail.isEmpty)
    }

    @Test(arguments: [(1, 1, 0), (64, 64, 0), (65, 1, 512), (100, 36, 512), (128, 64, 512), (129, 1, 1024)])
    func tailIsOneToSixtyFourBytes(length: Int, tailCount: Int, bitCount: UInt64) throws {
        let message = randomBytes(length)
        let split = SHA256State.cryptolibSplit(message)
        #expect(split.tail.count == tailCount)
        #expect(split.bitCount == bitCount)
        #expect((split.state == nil) == (bitCount == 0))
        var card = try split.state.map { try SHA256State(resumingFrom: $0, bitCount: split.bitCount) } ?? SHA256State()
        card.update(split.tail)
        #expect(card.finalize() == Array(SHA256.hash(data: message)))
    }

    @Test func sha1SplitResumes() throws {
        let message = randomBytes(1000)
        let split = SHA1State.cryptolibSplit(message)
        #expect(split.state?.count == 20)
        var card = try SHA1State(resumingFrom: try #require(split.state), bitCount: split.bitCount)
        card.update(split.tail)
        #expect(card.finalize() == Array(Insecure.SHA1.hash(data: message)))
    }
}
