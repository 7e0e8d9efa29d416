import SearchCore
import StoragePrimitives

/// The keyword index's log of writes since its last flush (`log-<n>.lxl`):
/// what the head holds, made durable before a write returns.
///
/// **Format** (little-endian). Header: magic `MMSLXL01` (8 bytes), format
/// version u32 (1), reserved u32. Then records, each a 12-byte header —
/// payload length u32, CRC-32C of the payload u32, CRC-32C of the previous
/// 8 bytes u32 — and the payload. Payloads (``LexicalLogRecord``): kind u8
/// (1 add, 2 remove), id u64; an add then has field count u16 and per field
/// its index u16, text length u32 and the UTF-8 text.
///
/// **Recovery** on open reads records until one fails. A failure that runs
/// to the end of the file — a record header cut short, a vouched-for length
/// past the end, or zero bytes (blocks a crash never wrote) — is a torn
/// tail: the write that made it never returned, so it is cut. Anything else
/// (a checksum failing on a complete record with more bytes after it) is
/// damage to acknowledged data: ``SearchCore/SearchError/Code/corruptData``
/// naming the file and offset, unless the caller accepts dropping it.
final class LexicalLog {
    static let magic: [UInt8] = Array("MMSLXL01".utf8)
    static let headerSize = 16
    static let recordHeaderSize = 12
    /// The largest record believed: 256 MiB.
    static let maximumRecordLength = 1 << 28

    let path: String
    private let file: AppendFile
    private(set) var size: Int
    private var pending: [UInt8] = []

    private init(path: String, file: consuming AppendFile, size: Int) {
        self.path = path
        self.file = file
        self.size = size
    }

    /// What recovery did.
    struct Recovery: Sendable, Hashable {
        var records: Int
        var bytesDropped: Int
        var damagedAt: Int?
    }

    /// Creates an empty log at `path` (atomically: a crash leaves none or a whole header).
    static func create(path: String) throws(SearchError) -> LexicalLog {
        var header = magic
        LittleEndian.append(UInt32(1), to: &header)
        LittleEndian.append(UInt32(0), to: &header)
        try AtomicFile.replace(path, with: [header])
        return LexicalLog(path: path, file: try AppendFile(path: path), size: headerSize)
    }

    /// Opens the log at `path`, returning its records' payloads in order.
    static func open(path: String, dropDamage: Bool) throws(SearchError) -> (LexicalLog, [[UInt8]], Recovery) {
        let bytes = try SystemCalls.readFile(path, limit: 1 << 40)
        let (records, valid, damaged) = scan(bytes, path: path)
        if let damaged, !dropDamage {
            throw SearchError(
                .corruptData,
                "keyword log \(path) is damaged at byte \(damaged) (a complete record fails its checksum); open with dropDamagedRecords to keep what precedes it")
        }
        let file = try AppendFile(path: path)
        if valid < bytes.count {
            if damaged != nil {
                try AtomicFile.replace(path + ".damaged-\(valid)", with: [Array(bytes[valid...])])
            }
            try file.truncate(to: valid)
        }
        let log = LexicalLog(path: path, file: file, size: valid)
        return (log, records, Recovery(records: records.count, bytesDropped: bytes.count - valid, damagedAt: damaged))
    }

    /// The payloads of the complete records, the length they end at, and the offset of damage if any.
    static func scan(_ bytes: [UInt8], path: String) -> ([[UInt8]], Int, Int?) {
        guard bytes.count >= headerSize, bytes.prefix(8).elementsEqual(magic),
            LittleEndian.read(UInt32.self, bytes, at: 8) == 1
        else {
            // A log whose header never became durable is empty; anything else is damage at 0.
            return ([], 0, bytes.allSatisfy { $0 == 0 } ? nil : 0)
        }
        var records: [[UInt8]] = []
        var at = headerSize
        return bytes.withUnsafeBytes { raw -> ([[UInt8]], Int, Int?) in
            while at < raw.count {
                let rest = UnsafeRawBufferPointer(rebasing: raw[at...])
                if rest.allSatisfy({ $0 == 0 }) { return (records, at, nil) }
                guard rest.count >= recordHeaderSize else { return (records, at, nil) }
                let length = Int(LittleEndian.read(UInt32.self, raw, at: at))
                let payloadCRC = LittleEndian.read(UInt32.self, raw, at: at + 4)
                let headerCRC = LittleEndian.read(UInt32.self, raw, at: at + 8)
                guard crc32c(UnsafeRawBufferPointer(rebasing: raw[at..<(at + 8)])) == headerCRC,
                    length <= maximumRecordLength
                else { return (records, at, at) }
                let start = at + recordHeaderSize
                guard start + length <= raw.count else { return (records, at, nil) }  // torn: cut short
                let payload = UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)])
                guard crc32c(payload) == payloadCRC else {
                    // The last record failing is a torn write; one with records after it is damage.
                    return (records, at, start + length == raw.count ? nil : at)
                }
                records.append(Array(payload))
                at = start + length
            }
            return (records, at, nil)
        }
    }

    /// Buffers a record; durable after ``commit()``.
    func append(_ payload: [UInt8]) {
        var header: [UInt8] = []
        LittleEndian.append(UInt32(payload.count), to: &header)
        let crc = payload.withUnsafeBytes { crc32c($0) }
        LittleEndian.append(crc, to: &header)
        let headerCRC = header.withUnsafeBytes { crc32c($0) }
        LittleEndian.append(headerCRC, to: &header)
        pending += header
        pending += payload
    }

    /// Whether records were written without being flushed to the device.
    private(set) var unsynced = false

    /// Writes what is buffered and, when `sync`, flushes the whole log to the
    /// device (making earlier unsynced writes durable too).
    func commit(sync: Bool = true) throws(SearchError) {
        if !pending.isEmpty {
            try file.write(pending, at: size)
            size += pending.count
            pending.removeAll(keepingCapacity: true)
            unsynced = true
        }
        if sync && unsynced {
            try file.flush()
            unsynced = false
        }
    }
}

/// A write in the log.
enum LexicalLogRecord {
    case add(VectorID, [(field: Int, text: String)])
    case remove(VectorID)

    func encoded() -> [UInt8] {
        var out: [UInt8] = []
        switch self {
        case .add(let id, let fields):
            out.append(1)
            LittleEndian.append(id.rawValue, to: &out)
            LittleEndian.append(UInt16(fields.count), to: &out)
            for (field, text) in fields {
                LittleEndian.append(UInt16(field), to: &out)
                LittleEndian.append(UInt32(text.utf8.count), to: &out)
                out += text.utf8
            }
        case .remove(let id):
            out.append(2)
            LittleEndian.append(id.rawValue, to: &out)
        }
        return out
    }

    /// Decodes a payload; nil when it is malformed (its checksum held, so a bug or a hostile file).
    init?(decoding bytes: [UInt8], fieldCount: Int) {
        guard bytes.count >= 9 else { return nil }
        let id = VectorID(rawValue: LittleEndian.read(UInt64.self, bytes, at: 1))
        switch bytes[0] {
        case 2:
            guard bytes.count == 9 else { return nil }
            self = .remove(id)
        case 1:
            guard bytes.count >= 11 else { return nil }
            let count = Int(LittleEndian.read(UInt16.self, bytes, at: 9))
            var at = 11
            var fields: [(field: Int, text: String)] = []
            for _ in 0..<count {
                guard at + 6 <= bytes.count else { return nil }
                let field = Int(LittleEndian.read(UInt16.self, bytes, at: at))
                let length = Int(LittleEndian.read(UInt32.self, bytes, at: at + 2))
                at += 6
                guard field < fieldCount, length <= bytes.count - at else { return nil }
                fields.append((field, String(decoding: bytes[at..<(at + length)], as: UTF8.self)))
                at += length
            }
            guard at == bytes.count else { return nil }
            self = .add(id, fields)
        default:
            return nil
        }
    }
}
