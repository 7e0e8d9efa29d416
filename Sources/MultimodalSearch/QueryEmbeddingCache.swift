import SearchCore
import Synchronization

/// The embeddings of recent queries, least recently used dropped first.
///
/// Kept apart from the catalogue's ``EmbeddingCache`` so a stream of
/// one-off queries never pushes out the embeddings of items, and bounded so
/// it never grows with traffic.
public final class QueryEmbeddingCache: Sendable {
    private struct Node {
        var key: String
        var embedding: [Float]
        var newer: Int
        var older: Int
    }

    /// Nodes in a fixed arena, linked newest to oldest; -1 ends a list.
    private struct State {
        var slots: [String: Int] = [:]
        var nodes: [Node] = []
        var newest = -1
        var oldest = -1

        mutating func unlink(_ i: Int) {
            let (newer, older) = (nodes[i].newer, nodes[i].older)
            if newer >= 0 { nodes[newer].older = older } else { newest = older }
            if older >= 0 { nodes[older].newer = newer } else { oldest = newer }
        }

        mutating func pushNewest(_ i: Int) {
            nodes[i].newer = -1
            nodes[i].older = newest
            if newest >= 0 { nodes[newest].newer = i }
            newest = i
            if oldest < 0 { oldest = i }
        }
    }

    private let state = Mutex(State())
    /// The most embeddings kept.
    public let capacity: Int

    /// A cache of at most `capacity` query embeddings (default 1,024).
    public init(capacity: Int = 1_024) {
        precondition(capacity > 0, "a query cache needs room for at least one entry")
        self.capacity = capacity
    }

    /// The embedding stored for `key`, which becomes the most recently used.
    /// - Complexity: O(1).
    public func embedding(for key: String) -> [Float]? {
        state.withLock { s in
            guard let i = s.slots[key] else { return nil }
            s.unlink(i)
            s.pushNewest(i)
            return s.nodes[i].embedding
        }
    }

    /// Stores an embedding as the most recently used, dropping the least
    /// recently used when full.
    /// - Complexity: O(1).
    public func store(_ embedding: [Float], for key: String) {
        state.withLock { s in
            if let i = s.slots[key] {
                s.nodes[i].embedding = embedding
                s.unlink(i)
                s.pushNewest(i)
                return
            }
            let i: Int
            if s.nodes.count < capacity {
                i = s.nodes.count
                s.nodes.append(Node(key: key, embedding: embedding, newer: -1, older: -1))
            } else {
                i = s.oldest
                s.unlink(i)
                s.slots[s.nodes[i].key] = nil
                s.nodes[i].key = key
                s.nodes[i].embedding = embedding
            }
            s.slots[key] = i
            s.pushNewest(i)
        }
    }

    /// The number of embeddings held.
    public var count: Int { state.withLock { $0.slots.count } }
}
