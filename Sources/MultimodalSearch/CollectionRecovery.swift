import ANNIndex
import Foundation
import SearchCore

/// What opening a collection found and did, so nothing is repaired silently.
///
/// ```swift
/// let collection = try SearchCollection(directory: "/data/catalog", schema: schema)
/// if !collection.recovery.isClean { logger.warning("\(collection.recovery)") }
/// ```
public struct CollectionRecovery: Sendable, CustomStringConvertible {
    /// When the collection was opened.
    public var openedAt: Date
    /// The checkpoint opened (0: none yet).
    public var generation: UInt64
    /// Items read from the checkpoint's snapshot.
    public var itemsInSnapshot: Int
    /// Log records replayed after the checkpoint.
    public var logRecordsReplayed: Int
    /// Bytes of the collection's log kept.
    public var logBytes: Int
    /// What the collection's log reported: a torn tail cut, a damaged record dropped.
    public var logRepairs: [String]
    /// Items whose write was interrupted by a crash before it returned (so
    /// never acknowledged): their vectors had not all reached the index. They
    /// were removed, so no item is searchable in only some of its fields.
    public var interruptedItems: [VectorID]
    /// What each vector field's index reported when it opened.
    public var indexRepairs: [String: [String]]

    /// True when opening found nothing to repair.
    public var isClean: Bool {
        logRepairs.isEmpty && interruptedItems.isEmpty && indexRepairs.values.allSatisfy(\.isEmpty)
    }

    /// One paragraph a person can read: what was replayed and what was repaired.
    public var description: String {
        var lines = [
            "opened \(ISO8601DateFormatter().string(from: openedAt)): checkpoint \(generation) with \(itemsInSnapshot) items, \(logRecordsReplayed) log records replayed (\(logBytes) bytes)"
        ]
        for repair in logRepairs { lines.append("collection log: \(repair)") }
        if !interruptedItems.isEmpty {
            let shown = interruptedItems.prefix(10).map(\.description).joined(separator: ", ")
            lines.append(
                "\(interruptedItems.count) items whose write was interrupted before it returned were removed: \(shown)\(interruptedItems.count > 10 ? ", …" : "")"
            )
        }
        for (field, repairs) in indexRepairs.sorted(by: { $0.key < $1.key }) {
            for repair in repairs { lines.append("\(field) index: \(repair)") }
        }
        if isClean { lines.append("nothing to repair") }
        return lines.joined(separator: "\n")
    }
}
