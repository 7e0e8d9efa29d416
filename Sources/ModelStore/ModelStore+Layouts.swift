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
        /// NLLB-SigLIP as open_clip publishes it: `open_clip_config.json` whose
        /// `text_cfg.hf_model_name` names an NLLB-200 encoder, with NLLB's tokenizer.
        case openCLIPNLLBSigLIP
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
            case .openCLIPNLLBSigLIP:
                (["open_clip_config.json", "open_clip_model.safetensors"],
                 ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"])
            case .multilingualCLIP:
                (["config.json", "model.safetensors"], ["sentencepiece.bpe.model", "tokenizer.json", "tokenizer_config.json"])
            }
        }
    }

    /// Fetches an image–text model repository of any ``Layout``: reads its
    /// configuration to tell the layout, then fetches that layout's files
    /// (the optional ones when the repository has them). An M-CLIP
    /// repository's `modelBase` configuration subfolder and bundled
    /// `image-tower/` are fetched too when present. For NLLB-SigLIP, the
    /// text tower's `config.json` and NLLB's `tokenizer.json` come from where
    /// `text_cfg` names them: a subfolder of the repository (`hf_model_name`,
    /// `hf_tokenizer_name` without an owner), or, for a hub id such as
    /// `facebook/nllb-200-distilled-600M`, that repository — its files put in
    /// the model's folder under the same relative path, where
    /// `ModelFolder` looks; the tokenizer only when the repository has none of its own.
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
        var textTower: (model: String, tokenizer: String)?
        if let folder = try await fetchIfPresent(repository, revision: revision, prefix + "open_clip_config.json", progress) {
            let json = try Self.readObject(folder.appendingPathComponent(prefix + "open_clip_config.json"))
            let model = json["model_cfg"] as? [String: Any] ?? json
            if let text = model["text_cfg"] as? [String: Any], let name = text["hf_model_name"] as? String {
                guard (try? Self.validate(path: name)) != nil else {
                    throw SearchError(.unsupportedFormat, "\(repository)/\(prefix)open_clip_config.json: text_cfg.hf_model_name \"\(name)\" is neither a subfolder nor a hub id")
                }
                // open_clip's Hugging Face text towers: NLLB-200's encoder is the one that loads.
                guard (name.split(separator: "/").last.map(String.init) ?? name).lowercased().hasPrefix("nllb") else {
                    throw SearchError(.unsupportedFormat, "\(repository)/\(prefix)open_clip_config.json: text_cfg.hf_model_name \"\(name)\" is not an NLLB-200 encoder (the only Hugging Face text tower of open_clip's that loads)")
                }
                let tokenizer = text["hf_tokenizer_name"] as? String ?? name
                guard (try? Self.validate(path: tokenizer)) != nil else {
                    throw SearchError(.unsupportedFormat, "\(repository)/\(prefix)open_clip_config.json: text_cfg.hf_tokenizer_name \"\(tokenizer)\" is neither a subfolder nor a hub id")
                }
                layout = .openCLIPNLLBSigLIP
                textTower = (name, tokenizer)
            } else {
                layout = .openCLIP
            }
        } else {
            let folder = try await fetch(repository, revision: revision, files: [ModelFile(prefix + "config.json")], progress: progress)
            let json = try Self.readObject(folder.appendingPathComponent(prefix + "config.json"))
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
        var present: Set<String> = []
        for name in layout.files.optional + extra {
            if try await fetchIfPresent(repository, revision: revision, prefix + name, progress) != nil { present.insert(name) }
        }
        if let textTower {
            try await fetchTextTower(
                textTower, repository: repository, revision: revision, into: folder, prefix: prefix,
                hasTokenizer: present.contains("tokenizer.json"), progress: progress)
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

    /// NLLB-SigLIP's text tower files: the encoder's `config.json` and NLLB's
    /// tokenizer from a subfolder of the repository, or from the hub
    /// repositories the names give (into the model's folder, same relative
    /// path). A tokenizer is required: without one the text tower cannot run.
    private func fetchTextTower(
        _ names: (model: String, tokenizer: String), repository: String, revision: String, into folder: URL,
        prefix: String, hasTokenizer: Bool,
        progress: (@Sendable (_ path: String, _ received: Int64, _ total: Int64?) -> Void)?
    ) async throws(SearchError) {
        func file(_ name: String, _ path: String) async throws(SearchError) -> Bool {
            let parts = name.split(separator: "/")
            if parts.count == 1 {
                return try await fetchIfPresent(repository, revision: revision, prefix + name + "/" + path, progress) != nil
            }
            // A hub id: its repository's file, kept beside the model under the same name.
            let destination = folder.appendingPathComponent(prefix + name + "/" + path)
            if try isCached(ModelFile(path), at: destination) { return true }
            if isOffline { return false }
            do {
                try Self.validate(repository: name, revision: "main")
                try await download(ModelFile(path), repository: name, revision: "main", to: destination, progress: progress)
                return true
            } catch where error.code == .notFound {
                return false
            }
        }
        _ = try await file(names.model, "config.json")
        guard !hasTokenizer else { return }
        guard try await file(names.tokenizer, "tokenizer.json") else {
            throw SearchError(
                .notFound,
                "\(repository): no NLLB tokenizer.json at the top, nor in \(names.tokenizer)\(isOffline ? " (offline, not in the cache)" : "")")
        }
        _ = try await file(names.tokenizer, "tokenizer_config.json")
    }

    /// A JSON object from a fetched file.
    static func readObject(_ path: URL) throws(SearchError) -> [String: Any] {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(contentsOf: path))
        } catch {
            throw SearchError(.corruptData, "\(path.path) is not JSON", underlying: error)
        }
        return object as? [String: Any] ?? [:]
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
