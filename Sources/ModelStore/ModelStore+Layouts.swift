import Foundation
import SearchCore

extension ModelStore {
    /// The ways image–text model repositories are published, as
    /// ``fetchModel(_:revision:progress:)`` tells them apart.
    public enum Layout: String, Sendable, CaseIterable {
        /// Hugging Face `CLIPModel` (`config.json` with `model_type` `clip`).
        case huggingFaceCLIP
        /// Hugging Face `SiglipModel`, SigLIP and SigLIP 2 (`model_type` `siglip`).
        case huggingFaceSigLIP
        /// open_clip (`open_clip_config.json`), CLIP or SigLIP.
        case openCLIP
        /// Multilingual CLIP (`model_type` `M-CLIP`), its image tower, when bundled, in `image-tower/`.
        case multilingualCLIP

        /// The files loading reads: the required ones, then those a
        /// repository may or may not have (tokenizer and preprocessing files,
        /// which differ between publishers).
        public var files: (required: [String], optional: [String]) {
            switch self {
            case .huggingFaceCLIP:
                (["config.json", "model.safetensors"],
                 ["preprocessor_config.json", "vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json"])
            case .huggingFaceSigLIP:
                (["config.json", "model.safetensors"],
                 ["preprocessor_config.json", "spiece.model", "tokenizer.model", "tokenizer.json", "tokenizer_config.json",
                  "special_tokens_map.json"])
            case .openCLIP:
                (["open_clip_config.json", "open_clip_model.safetensors"],
                 ["tokenizer.json", "tokenizer_config.json", "spiece.model", "vocab.json", "merges.txt"])
            case .multilingualCLIP:
                (["config.json", "model.safetensors"], ["sentencepiece.bpe.model", "tokenizer.json", "tokenizer_config.json"])
            }
        }
    }

    /// Fetches an image–text model repository of any ``Layout``: reads its
    /// configuration to tell the layout, then fetches that layout's files
    /// (the optional ones when the repository has them). An M-CLIP
    /// repository's `modelBase` configuration subfolder and bundled
    /// `image-tower/` are fetched too when present.
    ///
    /// Optional files the repository lacks cost one request each on every
    /// online call (an absent file is not remembered).
    ///
    /// - Returns: the local folder and its layout.
    /// - Throws: as ``fetch(_:revision:files:progress:)``;
    ///   ``SearchCore/SearchError/Code/unsupportedFormat`` for a configuration
    ///   of another kind of model.
    public func fetchModel(
        _ repository: String, revision: String = "main",
        progress: (@Sendable (_ path: String, _ received: Int64, _ total: Int64?) -> Void)? = nil
    ) async throws(SearchError) -> (folder: URL, layout: Layout) {
        try await fetchLayout(repository, revision: revision, under: "", progress: progress)
    }

    private func fetchLayout(
        _ repository: String, revision: String, under prefix: String,
        progress: (@Sendable (_ path: String, _ received: Int64, _ total: Int64?) -> Void)?
    ) async throws(SearchError) -> (folder: URL, layout: Layout) {
        let layout: Layout
        var extra: [String] = []
        if try await fetchIfPresent(repository, revision: revision, prefix + "open_clip_config.json", progress) != nil {
            layout = .openCLIP
        } else {
            let folder = try await fetch(repository, revision: revision, files: [ModelFile(prefix + "config.json")], progress: progress)
            let path = folder.appendingPathComponent(prefix + "config.json")
            let object: Any
            do {
                object = try JSONSerialization.jsonObject(with: Data(contentsOf: path))
            } catch {
                throw SearchError(.corruptData, "\(path.path) is not JSON", underlying: error)
            }
            let json = object as? [String: Any] ?? [:]
            switch json["model_type"] as? String {
            case "clip", nil: layout = .huggingFaceCLIP
            case "siglip", "siglip2": layout = .huggingFaceSigLIP
            case "M-CLIP":
                layout = .multilingualCLIP
                if let base = json["modelBase"] as? String, !base.contains("/"), (try? Self.validate(path: base)) != nil {
                    extra.append(base + "/config.json")
                }
            case let other?:
                throw SearchError(.unsupportedFormat, "\(repository)/\(prefix)config.json: model_type \"\(other)\" is not CLIP, SigLIP or M-CLIP")
            }
        }
        let folder = try await fetch(
            repository, revision: revision, files: layout.files.required.map { ModelFile(prefix + $0) }, progress: progress)
        for name in layout.files.optional + extra {
            _ = try await fetchIfPresent(repository, revision: revision, prefix + name, progress)
        }
        if layout == .multilingualCLIP, prefix.isEmpty {
            let towerMarkers = ["image-tower/open_clip_config.json", "image-tower/config.json"]
            for marker in towerMarkers where try await fetchIfPresent(repository, revision: revision, marker, progress) != nil {
                _ = try await fetchLayout(repository, revision: revision, under: "image-tower/", progress: progress)
                break
            }
        }
        return (folder, layout)
    }

    /// Fetches one file, or returns nil when the repository (or, offline, the cache) has none.
    private func fetchIfPresent(
        _ repository: String, revision: String, _ path: String,
        _ progress: (@Sendable (_ path: String, _ received: Int64, _ total: Int64?) -> Void)?
    ) async throws(SearchError) -> URL? {
        do {
            return try await fetch(repository, revision: revision, files: [ModelFile(path)], progress: progress)
        } catch where error.code == .notFound {
            return nil
        }
    }
}
