import Encoders
import Foundation
import SearchCore
import Tensor
import Testing

/// Zero-shot classification on the tiny seeded CLIP: the mechanics (prompt
/// averaging, cosine, softmax at the model's scale, sigmoid with scale and
/// bias) against references computed here in double precision, one from our
/// own per-prompt embeddings and one from the embeddings transformers
/// computed for the fixture (clip_reference.json). The tiny model's labels
/// mean nothing; only the arithmetic is checked.
@Suite("Zero-shot classification")
struct ZeroShotTests {
    /// A text encoder that embeds the fixture's texts from the fixture's token ids, so the
    /// tests do not depend on which merges file is present.
    struct FixtureTexts: TextEncoder {
        let encoder: CLIPTextEncoder
        let ids: [String: [Int32]]
        var dimension: Int { encoder.dimension }

        func embed(texts: [String], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
            var sequences: [[Int32]] = []
            for text in texts {
                guard let known = ids[text] else { throw SearchError(.notFound, "no token ids for \(text)") }
                sequences.append(known)
            }
            try encoder.embed(tokenIDs: sequences, into: output)
        }
    }

    static func setUp() throws -> (reference: CLIPParityTests.Reference, text: FixtureTexts, images: CLIPImageEncoder, path: String) {
        let reference = try Fixtures.json(CLIPParityTests.Reference.self, "clip_reference.json")
        let config = try CLIPConfiguration(huggingFaceConfigPath: Fixtures.path("clip_hf/config.json"))
        let path = try Fixtures.path("clip_hf/model.safetensors")
        let text = try CLIPTextEncoder(weights: SafetensorsFile(path: path), configuration: config.text, tokenizer: CLIPParityTests.tokenizer())
        let images = try CLIPImageEncoder(weights: SafetensorsFile(path: path), configuration: config.vision)
        return (reference, FixtureTexts(encoder: text, ids: Dictionary(uniqueKeysWithValues: zip(reference.texts, reference.token_ids))), images, path)
    }

    /// Unit vector in double precision.
    static func unit(_ v: some Collection<Float>) -> [Double] {
        let d = v.map(Double.init)
        let norm = d.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return d.map { $0 / norm }
    }

    /// CLIP's recipe written out: each label the normalised mean of its prompts' unit vectors.
    static func labelVectors(_ prompts: [[Int]], embeddings: [Float], dimension d: Int) -> [[Double]] {
        prompts.map { rows in
            var sum = [Double](repeating: 0, count: d)
            for r in rows {
                for (j, x) in unit(embeddings[(r * d)..<((r + 1) * d)]).enumerated() { sum[j] += x }
            }
            return unit(sum.map(Float.init))  // the mean's direction; its length does not matter
        }
    }

    static func softmax(_ logits: [Double]) -> [Double] {
        let m = logits.max()!
        let e = logits.map { exp($0 - m) }
        let total = e.reduce(0, +)
        return e.map { $0 / total }
    }

    /// Three labels over the fixture's three texts (a label may share prompts with another).
    static let labels = [
        ZeroShotClassifier.Label(name: "cat", prompts: ["a photo of a cat", "an emoji 🐱🚀 and a flag 🇫🇷"]),
        ZeroShotClassifier.Label(name: "astronaut", prompts: ["A Photo Of An Astronaut!"]),
        ZeroShotClassifier.Label(name: "anything", prompts: ["a photo of a cat", "A Photo Of An Astronaut!", "an emoji 🐱🚀 and a flag 🇫🇷"]),
    ]
    static let promptRows = [[0, 2], [1], [0, 1, 2]]

    @Test("the model's scoring is read from logit_scale: exp of the stored value (numpy: 14.1043653 for F16 2.6465, 13.5905542 for BF16 2.6094)")
    func scoringFromWeights() throws {
        guard case .softmax(let hf) = try ZeroShotScoring(weights: SafetensorsFile(path: Fixtures.path("clip_hf/model.safetensors"))) else {
            Issue.record("a CLIP file without logit_bias must give a softmax")
            return
        }
        #expect(abs(hf - 14.104_365_3) < 1e-5)
        guard case .softmax(let openAI) = try ZeroShotScoring(weights: SafetensorsFile(path: Fixtures.path("clip_openai/model.safetensors"))) else {
            Issue.record("a CLIP file without logit_bias must give a softmax")
            return
        }
        #expect(abs(openAI - 13.590_554_2) < 1e-5)

        // A SigLIP-style file: logit_scale and logit_bias (log 10 and −2.5) give a sigmoid.
        let path = WeightLoadingTests.temporaryPath("siglip-head.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafetensorsFile.write(
            ["logit_scale": Tensor(shape: [1], scalars: [Float(log(10.0))]), "logit_bias": Tensor(shape: [1], scalars: [-2.5])],
            to: path)
        guard case .sigmoid(let scale, let bias) = try ZeroShotScoring(weights: SafetensorsFile(path: path)) else {
            Issue.record("a file with logit_bias must give a sigmoid")
            return
        }
        #expect(abs(scale - 10) < 1e-5 && bias == -2.5)

        // Without logit_scale: not found, with what to do.
        try SafetensorsFile.write(["visual.proj": Tensor(shape: [1], scalars: [1])], to: path)
        #expect { _ = try ZeroShotScoring(weights: SafetensorsFile(path: path)) } throws: { ($0 as? SearchError)?.code == .notFound }
    }

    @Test("softmax at the model's scale over prompt-averaged labels equals the recipe computed in double, from our embeddings and from transformers'")
    func softmaxMechanics() throws {
        let (reference, text, images, path) = try Self.setUp()
        let scoring = try ZeroShotScoring(weights: SafetensorsFile(path: path))
        guard case .softmax(let scale) = scoring else { throw SearchError(.invalidArgument, "expected a softmax") }
        let classifier = try ZeroShotClassifier(labels: Self.labels, textEncoder: text, scoring: scoring)
        #expect(classifier.labels == ["cat", "astronaut", "anything"])
        #expect(classifier.dimension == 16)
        let d = classifier.dimension

        // Our text embeddings, one prompt at a time, averaged here in double.
        var ours = [Float](repeating: 0, count: 3 * d)
        try ours.withUnsafeMutableBufferPointer { try text.embed(texts: reference.texts, into: $0) }
        let ourLabels = Self.labelVectors(Self.promptRows, embeddings: ours, dimension: d)
        for (l, vector) in ourLabels.enumerated() {
            let stored = classifier.labelEmbeddings[(l * d)..<((l + 1) * d)].map(Double.init)
            #expect(zip(stored, vector).allSatisfy { abs($0 - $1) < 1e-6 }, "label \(l)")
        }
        // transformers' text embeddings of the same prompts.
        let theirLabels = Self.labelVectors(Self.promptRows, embeddings: reference.huggingface.text_embeddings, dimension: d)

        let pictures = CLIPParityTests.images(reference.images)
        let results = try classifier.classify(images: pictures, encoder: images, maximumCount: 3)
        for (i, picture) in pictures.enumerated() {
            let e = try images.embed(picture).values
            let scores = try classifier.scores(e)
            #expect(abs(scores.reduce(0, +) - 1) < 1e-5)
            // Ours, recomputed in double from our own embeddings: only float rounding apart (1e-5).
            let image = Self.unit(e)
            let expected = Self.softmax(ourLabels.map { label in Double(scale) * zip(image, label).reduce(0) { $0 + $1.0 * $1.1 } })
            #expect(zip(scores, expected).allSatisfy { abs(Double($0) - $1) < 1e-5 }, "image \(i): \(scores) against \(expected)")
            // transformers' embeddings (image and text): our embeddings are within 1e-4 of them, so the
            // logits are within about scale × 3e-4 ≈ 4e-3 and the probabilities closer still (5e-3 allowed).
            let theirImage = Self.unit(reference.huggingface.image_embeddings[(i * d)..<((i + 1) * d)])
            let theirs = Self.softmax(theirLabels.map { label in Double(scale) * zip(theirImage, label).reduce(0) { $0 + $1.0 * $1.1 } })
            #expect(zip(scores, theirs).allSatisfy { abs(Double($0) - $1) < 5e-3 }, "image \(i): \(scores) against transformers' \(theirs)")
            // classify(images:) gives the same, best first.
            let order = scores.indices.sorted { scores[$0] > scores[$1] }
            #expect(results[i].map(\.label) == order.map { classifier.labels[$0] })
            #expect(zip(results[i].map(\.score), order.map { scores[$0] }).allSatisfy { abs($0 - $1) < 1e-6 })
        }
    }

    @Test("sigmoid with an explicit scale and bias scores each label on its own, as σ(scale · cos + bias)")
    func sigmoidMechanics() throws {
        let (reference, text, images, _) = try Self.setUp()
        let scoring = ZeroShotScoring.sigmoid(scale: 10, bias: -2.5)
        #expect(!scoring.labelsAreExclusive)
        let classifier = try ZeroShotClassifier(labels: Self.labels, textEncoder: text, scoring: scoring)
        let d = classifier.dimension
        var ours = [Float](repeating: 0, count: 3 * d)
        try ours.withUnsafeMutableBufferPointer { try text.embed(texts: reference.texts, into: $0) }
        let labels = Self.labelVectors(Self.promptRows, embeddings: ours, dimension: d)
        for picture in CLIPParityTests.images(reference.images) {
            let e = try images.embed(picture).values
            let scores = try classifier.scores(e)
            let image = Self.unit(e)
            let expected = labels.map { label in 1 / (1 + exp(-(10 * zip(image, label).reduce(0) { $0 + $1.0 * $1.1 } - 2.5))) }
            #expect(zip(scores, expected).allSatisfy { abs(Double($0) - $1) < 1e-6 }, "\(scores) against \(expected)")
        }
        // Scale matters: the same cosines at another scale and bias give other scores.
        let other = try ZeroShotClassifier(
            labels: classifier.labels, embeddings: classifier.labelEmbeddings, scoring: .sigmoid(scale: 1, bias: 0))
        let e = try images.embed(CLIPParityTests.images(reference.images)[0]).values
        #expect(try other.scores(e) != classifier.scores(e))
    }

    @Test("templates write each label into every prompt; the result equals labels given with those prompts")
    func templates() throws {
        let texts = HashingTexts(dimension: 24)
        let templated = try ZeroShotClassifier(
            labels: ["red bike", "blue car"], templates: ["a photo of a {}.", "{} on a street, a {}"], textEncoder: texts,
            scoring: .openAICLIP)
        let explicit = try ZeroShotClassifier(
            labels: [
                .init(name: "red bike", prompts: ["a photo of a red bike.", "red bike on a street, a red bike"]),
                .init(name: "blue car", prompts: ["a photo of a blue car.", "blue car on a street, a blue car"]),
            ], textEncoder: texts, scoring: .openAICLIP)
        #expect(templated.labelEmbeddings == explicit.labelEmbeddings)
        // Each row is unit length.
        for l in 0..<2 {
            let row = templated.labelEmbeddings[(l * 24)..<((l + 1) * 24)]
            #expect(abs(row.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5)
        }
    }

    @Test("classify keeps at most maximumCount labels at or above the threshold, best first, ties in label order")
    func classifySelection() throws {
        // Three axis-aligned labels; an embedding at known cosines.
        let classifier = try ZeroShotClassifier(
            labels: ["x", "y", "z"], embeddings: [1, 0, 0, 0, 2, 0, 0, 0, 3], scoring: .sigmoid(scale: 4, bias: 0))
        #expect(classifier.labelEmbeddings == [1, 0, 0, 0, 1, 0, 0, 0, 1])
        let e: [Float] = [0.6, 0.8, 0]  // cosines 0.6, 0.8, 0 → σ(2.4), σ(3.2), σ(0)
        #expect(try classifier.classify(e, maximumCount: 3).map(\.label) == ["y", "x", "z"])
        #expect(try classifier.classify(e, maximumCount: 1).map(\.label) == ["y"])
        #expect(try classifier.classify(e, maximumCount: 3, threshold: 0.9).map(\.label) == ["y", "x"])
        #expect(try classifier.classify(e, maximumCount: 3, threshold: 0.99).isEmpty)
        let tie: [Float] = [1, 0, 1]
        #expect(try classifier.classify(tie, maximumCount: 2).map(\.label) == ["x", "z"])
        // Length does not matter: the cosine does.
        #expect(try classifier.scores([6, 8, 0]) == classifier.scores(e))
    }

    @Test("bad labels, templates, scorings and embeddings are typed errors")
    func errors() throws {
        let texts = HashingTexts(dimension: 8)
        func code(_ body: () throws -> Void) -> SearchError.Code? {
            do { try body() } catch let e as SearchError { return e.code } catch { return nil }
            return nil
        }
        #expect(code { _ = try ZeroShotClassifier(labels: [], textEncoder: texts, scoring: .openAICLIP) } == .invalidArgument)
        #expect(code { _ = try ZeroShotClassifier(labels: ["a", "a"], textEncoder: texts, scoring: .openAICLIP) } == .invalidArgument)
        #expect(code { _ = try ZeroShotClassifier(labels: ["a"], templates: ["no slot"], textEncoder: texts, scoring: .openAICLIP) } == .invalidArgument)
        #expect(code { _ = try ZeroShotClassifier(labels: ["a"], textEncoder: texts, scoring: .softmax(scale: 0)) } == .invalidArgument)
        #expect(code { _ = try ZeroShotClassifier(labels: ["a"], textEncoder: texts, scoring: .sigmoid(scale: 1, bias: .nan)) } == .invalidArgument)
        #expect(code { _ = try ZeroShotClassifier(labels: [.init(name: "a", prompts: [])], textEncoder: texts, scoring: .openAICLIP) } == .invalidArgument)
        #expect(code { _ = try ZeroShotClassifier(labels: ["a", "b"], embeddings: [1, 2, 3], scoring: .openAICLIP) } == .dimensionMismatch)
        #expect(code { _ = try ZeroShotClassifier(labels: ["a", "b"], embeddings: [1, 0, 0, 0], scoring: .openAICLIP) } == .invalidVector)
        let classifier = try ZeroShotClassifier(labels: ["a", "b"], textEncoder: texts, scoring: .openAICLIP)
        #expect(code { _ = try classifier.scores([Float](repeating: 0, count: 8)) } == .invalidVector)
        #expect(code { _ = try classifier.scores([Float](repeating: 1, count: 7)) } == .dimensionMismatch)
        #expect(code { _ = try classifier.classify([Float](repeating: 1, count: 8), maximumCount: -1) } == .invalidArgument)
        let (_, _, images, _) = try Self.setUp()
        #expect(code { _ = try classifier.classify(images: [], encoder: images) } == .dimensionMismatch)
    }
}

/// A deterministic text encoder for tests of mechanics: each word hashes to one of `dimension` slots.
struct HashingTexts: TextEncoder {
    let dimension: Int

    func embed(texts: [String], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        try SearchError.checkDimension(output.count, expected: texts.count * dimension, "the output buffer")
        for i in 0..<output.count { output[i] = 0 }
        for (t, text) in texts.enumerated() {
            for word in text.split(separator: " ") {
                var h: UInt64 = 1_469_598_103_934_665_603
                for b in word.utf8 { h = (h ^ UInt64(b)) &* 1_099_511_628_211 }
                output[t * dimension + Int(h % UInt64(dimension))] += 1
            }
        }
    }
}
