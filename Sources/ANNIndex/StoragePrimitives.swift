import StoragePrimitives

/// The package's little-endian coding, under the name this module's files use
/// without importing `StoragePrimitives` themselves (`HNSWCore+Segment.swift`
/// is being changed on another branch; once that lands it can import the
/// module and this alias can go).
typealias LittleEndian = StoragePrimitives.LittleEndian
