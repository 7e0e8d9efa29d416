import CSearchKernels
import Testing
import _TestSupport

@testable import Tensor

@Suite("CRC-32C")
struct CRC32CTests {
    @Test("the standard check values")
    func checkValues() {
        // RFC 3720 / iSCSI: "123456789" → 0xE3069283; 32 zero bytes → 0x8A9136AA.
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum(Array(0...31)) == 0x46DD_794E)
        #expect(CRC32C.checksum([]) == 0)
    }

    @Test("hardware and table versions agree at every length and alignment; updates chain")
    func agreement() {
        var rng = SeededGenerator(seed: 17)
        let data = (0..<4_100).map { _ in UInt8.random(in: 0...255, using: &rng) }
        data.withUnsafeBytes { raw in
            for length in [0, 1, 7, 8, 9, 63, 64, 65, 1000, 4096] {
                for shift in [0, 1, 3] {
                    let slice = UnsafeRawBufferPointer(rebasing: raw[shift..<(shift + length)])
                    let hardware = CRC32C.checksum(slice)
                    let table = slice.baseAddress.map { mms_crc32c_portable(0, $0, length) } ?? 0
                    #expect(hardware == table, "length \(length) shift \(shift)")
                }
            }
            var chained = CRC32C()
            chained.update(UnsafeRawBufferPointer(rebasing: raw[0..<1000]))
            chained.update(UnsafeRawBufferPointer(rebasing: raw[1000..<4100]))
            #expect(chained.value == CRC32C.checksum(raw))
        }
    }
}
