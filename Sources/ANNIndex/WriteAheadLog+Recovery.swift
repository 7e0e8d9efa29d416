import SearchCore

/// What opening a write-ahead log may do with damage it finds.
///
/// A *torn tail* is what an interrupted write leaves at the end of the file —
/// a record header cut short, a record whose declared length runs past the
/// end, or trailing zero bytes (blocks a power loss never wrote). No commit
/// that returned is in a torn tail. *Damage* is anything else: a complete
/// record that fails its checksum, a version 2 record header that fails its
/// own checksum, damage in the middle of the log. Damage may hold
/// acknowledged writes, so nothing drops it unless the caller says so.
///
/// ```swift
/// let index = try PersistentIndex(directory: path, dimension: 384, metric: .cosine,
///                                 recoveryPolicy: .dropDamagedRecords)
/// if index.recovery.outcome != .none { log.warning("\(index.recovery)") }
/// ```
public enum RecoveryPolicy: Sendable, Hashable {
    /// Cut a torn tail (reported in the ``RecoveryReport``); refuse damage
    /// with ``SearchError/Code/corruptData`` naming the file and offset. The default.
    case repairTornTail
    /// Cut a torn tail, and drop a damaged record with everything after it,
    /// copying the dropped bytes to a side file `<log>.damaged-<offset>` first
    /// so nothing is lost for good. Reported, never silent.
    case dropDamagedRecords
    /// Refuse anything but a log that ends exactly after a complete record,
    /// torn tail included; nothing is cut.
    case strict
}

/// What opening a write-ahead log found and did.
///
/// A log cut exactly on a record boundary cannot be told from a shorter log
/// by the log alone: it reports ``Outcome/none``. ``recordsReplayed`` and
/// ``bytesKept`` are here so a layer that knows what it wrote (an item log, a
/// replica) can cross-check.
public struct RecoveryReport: Sendable, Hashable, CustomStringConvertible {
    /// Why bytes were dropped, if any were.
    public enum Outcome: Sendable, Hashable {
        /// The log ended after a complete record; nothing was dropped.
        case none
        /// The bytes from `offset` to the end were an interrupted write and were cut.
        case tornTail(offset: Int)
        /// The record at `offset` was damaged (`reason`); it and everything
        /// after it were dropped, their bytes kept in the file `preservedAt`.
        case droppedDamagedRecord(offset: Int, reason: String, preservedAt: String)
    }

    /// The log file.
    public var path: String
    /// The log's format version (1 or 2).
    public var formatVersion: Int
    /// Complete, checksummed records read.
    public var recordsReplayed: Int
    /// The length of the log after recovery: its header and the records replayed.
    public var bytesKept: Int
    /// Bytes cut from the end of the log.
    public var bytesDropped: Int
    /// Why they were cut.
    public var outcome: Outcome

    /// Creates a report.
    public init(path: String, formatVersion: Int, recordsReplayed: Int, bytesKept: Int, bytesDropped: Int, outcome: Outcome) {
        self.path = path
        self.formatVersion = formatVersion
        self.recordsReplayed = recordsReplayed
        self.bytesKept = bytesKept
        self.bytesDropped = bytesDropped
        self.outcome = outcome
    }

    /// Whether anything was dropped.
    public var droppedAnything: Bool { bytesDropped > 0 }

    /// One line for a person: what was kept, what was dropped and why.
    public var description: String {
        let kept = "\(path) (log format \(formatVersion)): \(recordsReplayed) records replayed, \(bytesKept) bytes kept"
        switch outcome {
        case .none:
            return kept + ", nothing dropped"
        case .tornTail(let offset):
            return kept + "; cut a torn tail of \(bytesDropped) bytes at offset \(offset) (an interrupted write; no acknowledged record)"
        case .droppedDamagedRecord(let offset, let reason, let preservedAt):
            return kept
                + "; DROPPED \(bytesDropped) bytes from offset \(offset) because \(reason); records in them are lost from the index, their bytes kept in \(preservedAt)"
        }
    }
}

extension WriteAheadLog {
    /// What a scan found after the last complete record.
    enum Finding: Equatable {
        /// An interrupted write from `offset` to the end.
        case torn(offset: Int, why: String)
        /// Damage at `offset`.
        case damaged(offset: Int, why: String)
    }

    /// The result of reading a log image.
    struct Scan {
        var version: Int
        var records: [[UInt8]]
        /// The end of the last complete record.
        var validLength: Int
        var fileLength: Int
        /// What lies between `validLength` and `fileLength`; nil when they are equal.
        var finding: Finding?
    }

    /// The side file that keeps the bytes dropped from `offset` on.
    static func damagedPath(_ path: String, offset: Int) -> String { "\(path).damaged-\(offset)" }

    /// Applies `policy` to a scan: the report, or the error the policy demands.
    static func recover(_ scan: Scan, path: String, policy: RecoveryPolicy) throws(SearchError) -> RecoveryReport {
        let dropped = scan.fileLength - scan.validLength
        func report(_ outcome: RecoveryReport.Outcome) -> RecoveryReport {
            RecoveryReport(
                path: path, formatVersion: scan.version, recordsReplayed: scan.records.count, bytesKept: scan.validLength,
                bytesDropped: dropped, outcome: outcome)
        }
        let intact = "the \(scan.records.count) records before it are intact"
        switch scan.finding {
        case nil:
            return report(.none)
        case .torn(let offset, let why)?:
            guard policy != .strict else {
                throw SearchError(
                    .corruptData,
                    "\(path) at offset \(offset): a torn tail (\(why)), \(dropped) bytes an interrupted write left; \(intact). Nothing was cut because the recovery policy is .strict; open with .repairTornTail to cut it (no acknowledged write is in it)")
            }
            return report(.tornTail(offset: offset))
        case .damaged(let offset, let why)?:
            let side = damagedPath(path, offset: offset)
            guard policy == .dropDamagedRecords else {
                throw SearchError(
                    .corruptData,
                    "\(path) at offset \(offset): \(why); \(intact). This is damage, not an interrupted write, and the \(dropped) bytes from there on may hold acknowledged writes, so nothing was cut. Restore the log from a backup, or open with recovery policy .dropDamagedRecords to drop them (their bytes are kept in \(side))")
            }
            return report(.droppedDamagedRecord(offset: offset, reason: why, preservedAt: side))
        }
    }
}
