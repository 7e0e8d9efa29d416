import Encoders
import Foundation
import SearchCore
import Tensor
import Testing

/// Strict loading: required tensors, shapes, unexpected keys, configuration files.
@Suite("Weight loading")
struct WeightLoadingTests {
    /// Every tensor of a file, as floats.
    static func tensors(_ path: String) throws -> [String: Tensor<Float>] {
        let file = try SafetensorsFile(path: path)
        var all: [String: Tensor<Float>] = [:]
        for t in file.header.tensors where t.dtype.isFloatingPoint { all[t.name] = try file.floats(t.name) }
        return all
    }

    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("mms-\(UUID().uuidString)-\(name)").path
    }

    @Test("an unexpected tensor is reported by name; the other tower's tensors are not")
    func unexpectedKey() throws {
        var all = try Self.tensors(Fixtures.path("clip_hf/model.safetensors"))
        all["vision_model.encoder.layers.9.mlp.fc1.weight"] = Tensor<Float>(shape: [2])
        let path = Self.temporaryPath("extra.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafetensorsFile.write(all, to: path)
        let config = try CLIPConfiguration(huggingFaceConfigPath: Fixtures.path("clip_hf/config.json"))
        #expect {
            _ = try CLIPImageEncoder(weights: SafetensorsFile(path: path), configuration: config.vision)
        } throws: { error in
            guard let e = error as? SearchError else { return false }
            return e.code == .unsupportedFormat && e.message.contains("vision_model.encoder.layers.9.mlp.fc1.weight")
        }
        // The text tower skips the vision tower's keys, the extra one included.
        _ = try CLIPTextEncoder(
            weights: SafetensorsFile(path: path), configuration: config.text, tokenizer: CLIPParityTests.tokenizer())
    }

    @Test("a missing tensor is named with the file")
    func missingKey() throws {
        var all = try Self.tensors(Fixtures.path("clip_openai/model.safetensors"))
        all["visual.ln_post.bias"] = nil
        let path = Self.temporaryPath("missing.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafetensorsFile.write(all, to: path)
        let config = try CLIPConfiguration(openCLIPConfigPath: Fixtures.path("clip_openai/open_clip_config.json"))
        #expect {
            _ = try CLIPImageEncoder(weights: SafetensorsFile(path: path), configuration: config.vision)
        } throws: { error in
            guard let e = error as? SearchError else { return false }
            return e.code == .corruptData && e.message.contains("visual.ln_post.bias") && e.message.contains(path)
        }
    }

    @Test("configuration files: missing fields, wrong model types and unknown activations are typed errors")
    func configurations() throws {
        let path = Self.temporaryPath("config.json")
        defer { try? FileManager.default.removeItem(atPath: path) }
        func write(_ text: String) throws { try text.write(toFile: path, atomically: true, encoding: .utf8) }
        try write(#"{"model_type": "deberta-v2", "hidden_size": 8}"#)
        #expect { _ = try BERTConfiguration(huggingFaceConfigPath: path) } throws: {
            ($0 as? SearchError)?.code == .unsupportedFormat
        }
        try write(#"{"model_type": "bert", "hidden_size": 8}"#)
        #expect { _ = try BERTConfiguration(huggingFaceConfigPath: path) } throws: {
            ($0 as? SearchError)?.code == .corruptData
        }
        try write(#"{"model_type": "bert", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 16, "hidden_act": "swish"}"#)
        #expect { _ = try BERTConfiguration(huggingFaceConfigPath: path) } throws: {
            ($0 as? SearchError)?.code == .unsupportedFormat
        }
        try write(#"{"embed_dim": 16, "vision_cfg": {"image_size": 32}}"#)
        #expect { _ = try CLIPConfiguration(openCLIPConfigPath: path) } throws: {
            ($0 as? SearchError)?.code == .corruptData
        }
        try write(#"{"embed_dim": 16, "vision_cfg": {"image_size": 32, "layers": 1, "width": 64, "patch_size": 8}, "text_cfg": {"width": 16, "layers": 1, "hf_model_name": "x"}}"#)
        #expect { _ = try CLIPConfiguration(openCLIPConfigPath: path) } throws: {
            ($0 as? SearchError)?.code == .unsupportedFormat
        }
        try write("{ not json")
        #expect { _ = try CLIPConfiguration(huggingFaceConfigPath: path) } throws: {
            ($0 as? SearchError)?.code == .corruptData
        }
        #expect { _ = try CLIPConfiguration(huggingFaceConfigPath: path + ".absent") } throws: {
            ($0 as? SearchError)?.code == .notFound
        }
    }

    @Test("the presets have the published geometries")
    func presets() {
        #expect(CLIPVisionConfiguration.vitB32.gridSize == 7)
        #expect(CLIPVisionConfiguration.vitB16.gridSize == 14)
        #expect(CLIPVisionConfiguration.vitL14.gridSize == 16 && CLIPVisionConfiguration.vitL14.width == 1024)
    }

    @Test(
        "BERT keys with a bert. prefix and gamma/beta norms load to the same embeddings",
        .enabled(if: TestModels.miniLM != nil, Comment(rawValue: TestModels.missingMiniLM)))
    func bertNamings() throws {
        let directory = try #require(TestModels.miniLM)
        var renamed: [String: Tensor<Float>] = [:]
        for (name, tensor) in try Self.tensors(directory + "/model.safetensors") {
            var key = "bert." + name
            if key.hasSuffix("LayerNorm.weight") { key = String(key.dropLast("weight".count)) + "gamma" }
            if key.hasSuffix("LayerNorm.bias") { key = String(key.dropLast("bias".count)) + "beta" }
            renamed[key] = tensor
        }
        renamed["cls.predictions.bias"] = Tensor<Float>(shape: [4])
        let path = Self.temporaryPath("bert-prefixed.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafetensorsFile.write(renamed, to: path)
        let original = try MiniLMTests.shared.get()
        let prefixed = try BERTTextEncoder(
            weights: SafetensorsFile(path: path), configuration: original.configuration, tokenizer: original.tokenizer)
        let text = "a photo of an astronaut"
        #expect(try prefixed.embed(text) == original.embed(text))
    }
}

extension WeightLoadingTests {
    @Test("model folders in either layout load through CLIPModelFiles; an empty folder is not found")
    func modelFolders() throws {
        let hf = try CLIPModelFiles(directory: Fixtures.path("clip_hf"))
        #expect(hf.weightsPath.hasSuffix("clip_hf/model.safetensors"))
        let openCLIP = try CLIPModelFiles(directory: Fixtures.path("clip_openai"))
        #expect(openCLIP.weightsPath.hasSuffix("clip_openai/model.safetensors"))
        #expect(openCLIP.configuration.vision.activation == .quickGELU)
        let images = try CLIPImageEncoder(directory: Fixtures.path("clip_openai"))
        #expect(images.naming == .openAI && images.dimension == 16)
        let empty = FileManager.default.temporaryDirectory.path
        #expect { _ = try CLIPModelFiles(directory: empty + "/mms-no-such-model") } throws: {
            ($0 as? SearchError)?.code == .notFound
        }
    }
}
