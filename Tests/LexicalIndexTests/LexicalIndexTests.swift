import Foundation
import SearchCore
import Testing

@testable import LexicalIndex

@Suite("Keyword index")
struct LexicalIndexTests {
    static let configuration = LexicalIndex.Configuration(fields: [.caption, .tags, .fileName, .pictureText])

    static func sample(_ directory: String, options: LexicalIndex.Options = .init()) throws -> LexicalIndex {
        let index = try LexicalIndex(directory: directory, configuration: configuration, options: options)
        try index.add(id: 1, fields: ["caption": "A walnut table with brass legs", "fileName": "IMG_2041.jpg"])
        try index.add(id: 2, fields: ["caption": "Brass lamp beside table legs", "tags": "lamp brass"])
        try index.add(id: 3, fields: ["caption": "Legs of a brass bed", "fileName": "IMG_2099.png"])
        try index.add(id: 4, fields: ["caption": "Oak chair", "pictureText": "SALE 50% brass"])
        return index
    }

    @Test("a phrase matches words next to each other in order; plain words match anywhere")
    func phrases() throws {
        let directory = temporaryDirectory("phrase")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let index = try Self.sample(directory)
        let phrase = try index.search("\"brass legs\"", k: 10)
        #expect(phrase.map(\.id) == [1])
        #expect(phrase[0].matchedTerms == ["caption": ["brass leg"]])
        let words = try index.search("brass legs", k: 10)
        #expect(Set(words.map(\.id)) == [1, 2, 3, 4])
        #expect(words.first { $0.id == 4 }!.matchedTerms == ["pictureText": ["brass"]])
    }

    @Test("a prefix finds partial file names, unstemmed")
    func prefixes() throws {
        let directory = temporaryDirectory("prefix")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let index = try Self.sample(directory)
        let hits = try index.search("img_20*", k: 10)
        #expect(Set(hits.map(\.id)) == [1, 3])
        #expect(try index.search("img_209*", k: 10).map(\.id) == [3])
        #expect(try index.search("zzz*", k: 10).isEmpty)
    }

    @Test("field weights multiply per-field BM25; fields sum")
    func weights() throws {
        let directory = temporaryDirectory("weights")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let index = try Self.sample(directory)
        let hit = try #require(try index.search("lamp", k: 1).first)
        #expect(hit.id == 2)
        #expect(Set(hit.matchedTerms.keys) == ["caption", "tags"])
        // Per field: Lucene's BM25 on that field's statistics, times its weight.
        // caption: "lamp" in 1 of 4 documents, length 5, mean length 4.5; tags: 1 of 1, length 2, mean 2.
        func bm25(tf: Float, n: Int, count: Int, length: Float, mean: Float) -> Float {
            Float(log(1 + (Double(count) - Double(n) + 0.5) / (Double(n) + 0.5))) * tf / (tf + 1.2 * (0.25 + 0.75 * length / mean))
        }
        let expected = bm25(tf: 1, n: 1, count: 4, length: 5, mean: 18 / 4) + 1.5 * bm25(tf: 1, n: 1, count: 1, length: 2, mean: 2)
        #expect(abs(hit.score - expected) < 1e-5)
    }

    @Test("remove, replace, reopen, flush and merge keep exactly the live documents")
    func lifecycle() throws {
        let directory = temporaryDirectory("life")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let index = try Self.sample(directory)
            #expect(try index.remove(id: 2))
            #expect(try !index.remove(id: 2))
            try index.add(id: 3, fields: ["caption": "green velvet sofa"])
            #expect(index.count == 3)
        }
        do {
            let index = try LexicalIndex(directory: directory, configuration: Self.configuration)
            #expect(index.recovery.recordsReplayed == 6)
            #expect(index.count == 3)
            #expect(try index.search("lamp", k: 10).isEmpty)
            #expect(try index.search("velvet", k: 10).map(\.id) == [3])
            try index.flush()
            #expect(try index.remove(id: 1))
        }
        do {
            let index = try LexicalIndex(directory: directory, configuration: Self.configuration)
            #expect(index.segments.count == 1)
            #expect(Set(try index.search("brass oak velvet", k: 10).map(\.id)) == [3, 4])
            try index.merge()
            #expect(index.segments.map(\.documents) == [2])
            #expect(Set(try index.search("brass oak velvet", k: 10).map(\.id)) == [3, 4])
            let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
            #expect(files.count == 3, "\(files)")  // MANIFEST, one segment, one log
        }
    }

    @Test("bad input is a typed error")
    func errors() throws {
        let directory = temporaryDirectory("errors")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let index = try Self.sample(directory)
        #expect(throws: SearchError.self) { try index.add(id: 9, fields: ["colour": "red"]) }
        #expect(throws: SearchError.self) { try index.search("brass", k: 0) }
        #expect(throws: SearchError.self) {
            try LexicalIndex(directory: directory, configuration: .init(fields: [.caption]))
        }
        #expect(throws: SearchError.self) {
            try LexicalIndex(directory: temporaryDirectory("dup"), configuration: .init(fields: [.caption, .caption]))
        }
        #expect(try index.search("", k: 3).isEmpty)
    }
}

@Suite("Deferred durability")
struct DeferredDurabilityTests {
    @Test("deferred adds are searchable at once, and durable after commit or flush")
    func deferred() throws {
        let directory = temporaryDirectory("deferred")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = LexicalIndex.Configuration(fields: [.caption])
        do {
            let index = try LexicalIndex(directory: directory, configuration: configuration)
            for i in 0..<10 {
                try index.add([(VectorID(UInt64(i)), ["caption": "walnut table \(i)"])], durability: .deferred)
            }
            #expect(try index.search("walnut", k: 20).count == 10)
            try index.commit()
        }
        do {
            let index = try LexicalIndex(directory: directory, configuration: configuration)
            #expect(index.recovery.recordsReplayed == 10)
            #expect(index.count == 10)
            try index.add([(VectorID(10), ["caption": "oak chair"])], durability: .deferred)
            try index.flush()
        }
        let index = try LexicalIndex(directory: directory, configuration: configuration)
        #expect(index.count == 11)
        #expect(index.segments.map(\.documents) == [11])
        #expect(try index.search("oak", k: 5).map(\.id) == [10])
    }
}
