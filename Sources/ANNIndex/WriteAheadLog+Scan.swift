import SearchCore
import StoragePrimitives
import Tensor

extension WriteAheadLog {
    /// Reads the records of a log image up to the first that fails, and
    /// classifies what follows (see the format and recovery rules on ``WriteAheadLog``).
    static func scan(_ b: UnsafeRawBufferPointer, path: String) throws(SearchError) -> Scan {
        guard b.count >= headerSize, b.prefix(8).elementsEqual(magic) else {
            throw SearchError(.corruptData, "\(path) at offset 0: not a write-ahead log (no MMSWAL01 header)")
        }
        let rawVersion = LittleEndian.read(UInt32.self, b, at: 8)
        guard rawVersion == 1 || rawVersion == 2 else {
            throw SearchError(.unsupportedFormat, "\(path) is log format version \(rawVersion); this build reads versions 1 and 2")
        }
        let version = Int(rawVersion)
        let recordHeader = recordHeaderSize(version: version)
        var records: [[UInt8]] = []
        var offset = headerSize
        var finding: Finding?
        while offset < b.count {
            switch record(b, at: offset, version: version, recordHeader: recordHeader) {
            case .complete(let end):
                records.append(Array(UnsafeRawBufferPointer(rebasing: b[(offset + recordHeader)..<end])))
                offset = end
                continue
            case .torn(let why):
                finding = .torn(offset: offset, why: why)
            case .damaged(let why):
                // Zeros to the end are unwritten blocks, whatever they fail.
                finding = allZero(b, from: offset)
                    ? .torn(offset: offset, why: "\(b.count - offset) zero bytes to the end, blocks never written")
                    : .damaged(offset: offset, why: why)
            }
            break
        }
        return Scan(version: version, records: records, validLength: offset, fileLength: b.count, finding: finding)
    }

    private enum RecordCheck {
        case complete(end: Int)
        case torn(String)
        case damaged(String)
    }

    private static func record(_ b: UnsafeRawBufferPointer, at offset: Int, version: Int, recordHeader: Int) -> RecordCheck {
        let remaining = b.count - offset
        guard remaining >= recordHeader else {
            return allZero(b, from: offset)
                ? .torn("\(remaining) zero bytes to the end, blocks never written")
                : .torn("a record header cut short after \(remaining) of \(recordHeader) bytes")
        }
        let length = Int(LittleEndian.read(UInt32.self, b, at: offset))
        let storedPayloadCRC = LittleEndian.read(UInt32.self, b, at: offset + 4)
        if version >= 2 {
            let headerCRC = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: b[offset..<(offset + 8)]))
            guard headerCRC == LittleEndian.read(UInt32.self, b, at: offset + 8) else {
                return .damaged("the record header fails its checksum")
            }
            guard length <= maximumRecordLength else {
                return .damaged("the record header declares \(length) bytes, over the \(maximumRecordLength)-byte limit")
            }
        }
        let end = offset + recordHeader + length
        guard end <= b.count else {
            return .torn("a record of \(length) bytes of which only \(remaining - recordHeader) were written")
        }
        if version == 1 {
            guard length <= maximumRecordLength else {
                return .damaged("the record declares \(length) bytes, over the \(maximumRecordLength)-byte limit")
            }
        }
        var crc = CRC32C()
        if version == 1 { crc.update(UnsafeRawBufferPointer(rebasing: b[offset..<(offset + 4)])) }
        crc.update(UnsafeRawBufferPointer(rebasing: b[(offset + recordHeader)..<end]))
        guard crc.value == storedPayloadCRC else {
            let position = end == b.count ? "the last record" : "\(b.count - end) bytes follow it"
            return .damaged("a complete record of \(length) bytes fails its checksum (\(position))")
        }
        return .complete(end: end)
    }

    private static func allZero(_ b: UnsafeRawBufferPointer, from offset: Int) -> Bool {
        UnsafeRawBufferPointer(rebasing: b[offset...]).allSatisfy { $0 == 0 }
    }
}
