import ModelStore
import SearchCore
import Synchronization

/// Embeddings keyed by the SHA-256 of what was encoded (a caption's UTF-8, an
/// image file's bytes) and the encoder's name, so re-ingesting unchanged
/// content costs a hash, not a forward pass.
///
/// Bounded: past ``capacity`` entries the oldest are dropped.
public final class EmbeddingCache: Sendable {
    private struct State {
        var entries: [String: [Float]] = [:]
        var order: [String] = []
        var head = 0
    }

    private let state = Mutex(State())
    /// The most embeddings kept.
    public let capacity: Int

    /// A cache holding at most `capacity` embeddings.
    public init(capacity: Int = 100_000) {
        precondition(capacity > 0, "an embedding cache needs room for at least one entry")
        self.capacity = capacity
    }

    /// The key for `content` encoded by `encoder`.
    public static func key<C: Collection>(encoder: String, content: C) -> String where C.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(Array(encoder.utf8) + [0])
        hasher.update(content)
        return hasher.finalize().hex
    }

    /// The cached embedding for `key`, if any.
    public func embedding(for key: String) -> [Float]? { state.withLock { $0.entries[key] } }

    /// Stores an embedding.
    public func store(_ embedding: [Float], for key: String) {
        state.withLock { s in
            if s.entries.updateValue(embedding, forKey: key) == nil {
                s.order.append(key)
                if s.entries.count > capacity {
                    // Drop the oldest; compact the order list now and then.
                    s.entries[s.order[s.head]] = nil
                    s.head += 1
                    if s.head > capacity {
                        s.order.removeFirst(s.head)
                        s.head = 0
                    }
                }
            }
        }
    }

    /// The number of embeddings held.
    public var count: Int { state.withLock { $0.entries.count } }
}
