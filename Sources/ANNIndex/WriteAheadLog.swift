import SearchCore
import StoragePrimitives
import Synchronization
import Tensor

/// An append-only log of opaque records, made durable by ``commit()``.
///
/// **Format** (every integer little-endian). The file header, both versions:
///
/// | offset | size | field |
/// | --- | --- | --- |
/// | 0 | 8 | magic `MMSWAL01` (ASCII) |
/// | 8 | 4 | format version u32: 2 for logs this build creates, 1 still read |
/// | 12 | 4 | reserved u32, 0 |
/// | 16 | … | records, one after another to the end of the file |
///
/// A **version 2** record (12-byte header, then the payload):
///
/// | offset | size | field |
/// | --- | --- | --- |
/// | 0 | 4 | `length` u32: payload bytes, at most ``maximumRecordLength`` |
/// | 4 | 4 | `payloadChecksum` u32: CRC-32C (Castagnoli) of the payload |
/// | 8 | 4 | `headerChecksum` u32: CRC-32C of the 8 bytes at offsets 0..<8 |
/// | 12 | `length` | payload |
///
/// A **version 1** record (8-byte header): `length` u32, `checksum` u32
/// (CRC-32C of the four length bytes followed by the payload), payload.
/// Version 1 logs are read and appended to in version 1; a flush of a
/// ``PersistentIndex`` starts a new log, in version 2.
///
/// **Durability.** ``append(_:)`` buffers; ``commit()`` writes what is
/// buffered and `fdatasync`s before it returns, so what a commit acknowledged
/// survives `kill -9` and power loss. Several appends per commit make a group
/// commit (all-or-nothing only to the extent that a torn tail drops whole
/// records; callers wanting atomic batches append one record per batch).
///
/// **Recovery** (``open(path:policy:)``, ``replay(path:policy:)``). Records
/// are read in order until one fails. What follows the last complete record
/// is then one of:
/// - a **torn tail**, the bytes of a write that never returned, running to
///   the end of the file: a record header cut short; a record whose declared
///   length runs past the end of the file (in version 2, only once the
///   header's own checksum has vouched for that length); or bytes that are
///   all zero (blocks a power loss never wrote);
/// - **damage**: a complete record failing its checksum, a version 2 record
///   header failing its checksum, a declared length over the limit — which
///   may be followed by further records, acknowledged ones among them.
///
/// The ``RecoveryPolicy`` decides: by default a torn tail is cut and damage
/// is ``SearchError/Code/corruptData`` naming the file and offset;
/// `.dropDamagedRecords` drops the damaged record and all after it (copied to
/// `<log>.damaged-<offset>` first); `.strict` refuses both. Either way the
/// ``RecoveryReport`` (``recovery``) says what was kept and dropped.
///
/// Limits, stated plainly: a log cut exactly on a record boundary looks like
/// a shorter log (the report's record count and byte length let a higher
/// layer cross-check). In version 1 a bit flip in a `length` field that makes
/// it run past the end of the file looks like a torn tail, and is cut as one;
/// version 2's header checksum tells the two apart. A power loss that
/// persists a record's header but not its payload, with non-zero stale bytes
/// in place of the payload, presents as damage and needs `.dropDamagedRecords`.
public final class WriteAheadLog: Sendable {
    /// `MMSWAL01`.
    public static let magic: [UInt8] = Array("MMSWAL01".utf8)
    /// The bytes before the first record.
    public static let headerSize = 16
    /// The format version this build writes for new logs.
    public static let currentVersion = 2
    /// The largest record accepted (and believed on replay): 1 GiB.
    public static let maximumRecordLength = 1 << 30

    /// The bytes before a record's payload in format `version`.
    public static func recordHeaderSize(version: Int) -> Int { version == 1 ? 8 : 12 }

    /// The log's path.
    public let path: String
    /// The format version of this file (records are appended in it).
    public let formatVersion: Int
    /// What opening the log found and did.
    public let recovery: RecoveryReport
    private struct State: ~Copyable {
        /// The open file; nil once closed.
        var file: AppendFile?
        var pending: [UInt8] = []
        var size: Int
    }
    private let state: Mutex<State>

    /// Opens (creating if absent, in version 2) the log at `path` for
    /// appending after its last complete record, recovering as `policy` allows.
    ///
    /// - Returns: the log and the payloads already in it, in order; what
    ///   recovery did is the log's ``recovery``.
    /// - Throws: ``SearchError/Code/corruptData`` naming the file and offset
    ///   for damage `policy` refuses (nothing is changed then),
    ///   `.unsupportedFormat` for an unknown version, `.io` when the file
    ///   cannot be read, repaired or created.
    public static func open(
        path: String, policy: RecoveryPolicy = .repairTornTail
    ) throws(SearchError) -> (log: WriteAheadLog, records: [[UInt8]]) {
        guard SystemCalls.exists(path) else {
            var header = magic
            LittleEndian.append(UInt32(currentVersion), to: &header)
            LittleEndian.append(UInt32(0), to: &header)
            try AtomicFile.replace(path, with: [header])
            let report = RecoveryReport(
                path: path, formatVersion: currentVersion, recordsReplayed: 0, bytesKept: headerSize, bytesDropped: 0, outcome: .none)
            let log = WriteAheadLog(path: path, file: try AppendFile(path: path), size: headerSize, version: currentVersion, recovery: report)
            return (log, [])
        }
        let mapping = try MappedFile(path: path)
        let scan = try scan(mapping.bytes, path: path)
        let report = try recover(scan, path: path, policy: policy)
        if case .droppedDamagedRecord(let offset, _, let side) = report.outcome {
            // Keep what is dropped before cutting it.
            let dropped = Array(UnsafeRawBufferPointer(rebasing: mapping.bytes[offset...]))
            try AtomicFile.replace(side, with: [dropped])
        }
        let file = try AppendFile(path: path)
        if scan.validLength < scan.fileLength { try file.truncate(to: scan.validLength) }
        let log = WriteAheadLog(path: path, file: file, size: scan.validLength, version: scan.version, recovery: report)
        return (log, scan.records)
    }

    private init(path: String, file: consuming AppendFile, size: Int, version: Int, recovery: RecoveryReport) {
        self.path = path
        formatVersion = version
        self.recovery = recovery
        state = Mutex(State(file: file, size: size))
    }

    /// Closes the file, dropping anything appended but not committed. Later
    /// commits throw ``SearchError/Code/invalidArgument``; closing again does
    /// nothing. (Deinitialising the log closes it too.)
    public func close() {
        state.withLock { s in
            s.file = nil
            s.pending.removeAll()
        }
    }

    /// The log's size in bytes once everything buffered is committed.
    public var size: Int { state.withLock { $0.size + $0.pending.count } }

    /// Buffers one record; durable after the next ``commit()``.
    public func append(_ payload: [UInt8]) throws(SearchError) {
        guard payload.count <= Self.maximumRecordLength else {
            throw SearchError(.resourceLimit, "a log record of \(payload.count) bytes exceeds \(Self.maximumRecordLength)")
        }
        var record: [UInt8] = []
        record.reserveCapacity(Self.recordHeaderSize(version: formatVersion) + payload.count)
        LittleEndian.append(UInt32(payload.count), to: &record)
        if formatVersion == 1 {
            var crc = CRC32C()
            crc.update(record)
            crc.update(payload)
            LittleEndian.append(crc.value, to: &record)
        } else {
            LittleEndian.append(CRC32C.checksum(payload), to: &record)
            LittleEndian.append(CRC32C.checksum(record), to: &record)
        }
        record += payload
        state.withLock { $0.pending += record }
    }

    /// Writes everything appended and flushes it to disk; returns only when it is durable.
    ///
    /// - Throws: ``SearchError/Code/invalidArgument`` after ``close()``, `.io` when the write or flush fails.
    public func commit() throws(SearchError) {
        try state.withLock { (s) throws(SearchError) in
            guard s.file != nil else { throw SearchError(.invalidArgument, "\(path) is closed") }
            try s.file?.write(s.pending, at: s.size)
            try s.file?.flush()
            s.size += s.pending.count
            s.pending.removeAll(keepingCapacity: true)
        }
    }

    /// Reads every complete record of a log and says what opening it with
    /// `policy` would do; changes nothing on disk.
    ///
    /// - Throws: as ``open(path:policy:)``.
    public static func replay(
        path: String, policy: RecoveryPolicy = .repairTornTail
    ) throws(SearchError) -> (records: [[UInt8]], recovery: RecoveryReport) {
        let mapping = try MappedFile(path: path)
        return try replay(mapping.bytes, path: path, policy: policy)
    }

    /// Replays a log image in memory; `path` names it in messages and reports.
    public static func replay(
        _ bytes: UnsafeRawBufferPointer, path: String, policy: RecoveryPolicy = .repairTornTail
    ) throws(SearchError) -> (records: [[UInt8]], recovery: RecoveryReport) {
        let scan = try scan(bytes, path: path)
        return (scan.records, try recover(scan, path: path, policy: policy))
    }
}
