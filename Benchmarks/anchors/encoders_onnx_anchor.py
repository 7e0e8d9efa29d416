#!/usr/bin/env python3
"""The onnxruntime and Pillow anchors for `mms-bench encoders`.

Two steps, both run by `mms-bench encoders` in one invocation:

* ``prepare``: exports to ONNX, from the safetensors files mms-bench wrote
  (the very weights our encoders run), the CLIP ViT-B/32 image tower and the
  CLIP B/32 text tower (open_clip, QuickGELU, unit-length output) and
  all-MiniLM-L6-v2 (transformers' BertModel, mean pooling, L2); makes INT8
  copies with onnxruntime's dynamic quantisation (per-channel weights, the
  usual CPU recipe); writes a 12-megapixel test photo (4000 × 3000 JPEG,
  quality 90) when it is missing. Also builds, seeded, SigLIP base-patch16-224
  (transformers' SiglipModel) and an M-CLIP XLM-R-base text tower with its
  projection, saved as the hubs publish them into siglip-b16/ and
  xlmr-mclip/ (mms-bench loads those folders), and exports SigLIP's image and
  text towers and the XLM-R tower. Needs torch, open_clip, transformers, onnx.
* ``run``: times onnxruntime (CPU execution provider, intra-op threads as
  asked, one inter-op thread) and Pillow on the same inputs; prints one JSON
  object, figures named as mms-bench names its own. Needs onnxruntime,
  transformers (MiniLM's tokenizer: tokenisation is timed on both sides),
  Pillow and numpy.

    python Benchmarks/anchors/encoders_onnx_anchor.py prepare --dir bench-data/encoders --minilm DIR
    python Benchmarks/anchors/encoders_onnx_anchor.py run --dir bench-data/encoders --minilm DIR
"""

import argparse
import json
import os
import sys
import time
import types


def median_seconds(body, samples):
    body()
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def make_photo(path):
    """A 4000 × 3000 photo-like picture: smooth gradients, soft shapes and sensor-like noise."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    rng = np.random.default_rng(12)
    h, w = 3000, 4000
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([
        120 + 80 * np.sin(x / 700) * np.cos(y / 900),
        110 + 70 * np.cos(x / 500 + 1) * np.sin(y / 650),
        100 + 60 * np.sin((x + y) / 800),
    ], axis=-1)
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        cx, cy, r = rng.integers(0, w), rng.integers(0, h), rng.integers(40, 500)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    image = image.filter(ImageFilter.GaussianBlur(3))
    pixels = np.asarray(image).astype(np.float32) + rng.normal(0, 6, (h, w, 3)).astype(np.float32)
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path, quality=90)


class Pooled:
    """all-MiniLM-L6-v2 as sentence-transformers runs it: mean over the real tokens, then L2."""

    def __new__(cls, bert):
        import torch

        class Module(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.bert = bert

            def forward(self, input_ids, attention_mask, token_type_ids):
                states = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                                   token_type_ids=token_type_ids).last_hidden_state
                mask = attention_mask.unsqueeze(-1).to(states.dtype)
                pooled = (states * mask).sum(1) / mask.sum(1)
                return torch.nn.functional.normalize(pooled, dim=1)

        return Module()


def prepare(args):
    # The PyPI torchvision wheel is built against CUDA PyTorch; open_clip needs only its Python parts.
    sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
    import open_clip
    import torch
    import transformers
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from safetensors.torch import load_file

    os.makedirs(args.dir, exist_ok=True)
    photo = os.path.join(args.dir, "photo-12mp.jpg")
    if not os.path.exists(photo):
        make_photo(photo)

    def export(module, inputs, names, dynamic, name, source):
        path = os.path.join(args.dir, name + ".onnx")
        quantized = os.path.join(args.dir, name + "-int8.onnx")
        # Exports newer than the weights they came from are kept (the weights are seeded, written once).
        if os.path.exists(quantized) and os.path.getmtime(quantized) > os.path.getmtime(source):
            return
        with torch.no_grad():
            torch.onnx.export(module, inputs, path, input_names=names, output_names=["embedding"],
                              dynamic_axes=dynamic, opset_version=17, dynamo=False)
        quantize_dynamic(path, quantized,
                         weight_type=QuantType.QInt8, per_channel=True)

    model = open_clip.model.CLIP(
        embed_dim=512, quick_gelu=True,
        vision_cfg=dict(image_size=224, layers=12, width=768, patch_size=32),
        text_cfg=dict(context_length=77, vocab_size=49408, width=512, heads=8, layers=12)).eval()
    weights = load_file(os.path.join(args.dir, "vit-b32.safetensors"))
    weights.update(load_file(os.path.join(args.dir, "clip-b32-text.safetensors")))
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if unexpected or set(missing) - {"logit_scale", "attn_mask"}:
        raise SystemExit(f"weights do not fit open_clip's CLIP: missing {missing}, unexpected {unexpected}")

    model.requires_grad_(False)
    # nn.MultiheadAttention's fused inference path has no ONNX export; the plain path is the same arithmetic.
    torch.backends.mha.set_fastpath_enabled(False)

    class Tower(torch.nn.Module):
        def __init__(self, image):
            super().__init__()
            self.model, self.image = model, image

        def forward(self, x):
            return self.model.encode_image(x, normalize=True) if self.image else self.model.encode_text(x, normalize=True)

    export(Tower(True), (torch.zeros(2, 3, 224, 224),), ["pixels"], {"pixels": {0: "batch"}}, "vit-b32",
           os.path.join(args.dir, "vit-b32.safetensors"))
    export(Tower(False), (torch.zeros(2, 77, dtype=torch.long),), ["ids"], {"ids": {0: "batch"}}, "clip-b32-text",
           os.path.join(args.dir, "clip-b32-text.safetensors"))

    bert = transformers.BertModel.from_pretrained(args.minilm, add_pooling_layer=False).eval().requires_grad_(False)
    x = transformers.AutoTokenizer.from_pretrained(args.minilm)(["a photo", "two"], padding=True, return_tensors="pt")
    axes = {"batch": 0, "tokens": 1}
    dynamic = {k: {v: n for n, v in axes.items()} for k in ("input_ids", "attention_mask", "token_type_ids")}
    export(Pooled(bert), (x["input_ids"], x["attention_mask"], x["token_type_ids"]),
           ["input_ids", "attention_mask", "token_type_ids"], dynamic, "minilm",
           os.path.join(args.minilm, "model.safetensors"))
    prepare_multilingual_and_siglip(args, export)
    print(json.dumps({"prepared": args.dir}))


def seeded(model, seed):
    """Seeded weights of scale 0.02, layer-norm gains near 1 (as mms-bench's own random towers)."""
    import torch
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1 and name.endswith("weight") and "norm" in name.lower():
                p.copy_(1 + 0.02 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.02 * torch.randn(p.shape, generator=g))


def prepare_multilingual_and_siglip(args, export):
    import torch
    import transformers
    from safetensors.torch import save_file

    siglip_dir = os.path.join(args.dir, "siglip-b16")
    weights = os.path.join(siglip_dir, "model.safetensors")
    config = transformers.SiglipConfig(
        vision_config=dict(image_size=224, patch_size=16, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                           intermediate_size=3072, hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6),
        text_config=dict(vocab_size=32000, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                         intermediate_size=3072, max_position_embeddings=64, hidden_act="gelu_pytorch_tanh",
                         layer_norm_eps=1e-6))
    if os.path.exists(weights):
        siglip = transformers.SiglipModel.from_pretrained(siglip_dir, attn_implementation="eager").eval()
    else:
        siglip = transformers.SiglipModel._from_config(config, attn_implementation="eager").eval()
        seeded(siglip, 17)
        siglip.save_pretrained(siglip_dir, safe_serialization=True)
    siglip.requires_grad_(False)

    class SigLIPTower(torch.nn.Module):
        def __init__(self, image):
            super().__init__()
            self.model, self.image = siglip, image

        def forward(self, x):
            if self.image:
                return torch.nn.functional.normalize(self.model.vision_model(pixel_values=x).pooler_output, dim=-1)
            return torch.nn.functional.normalize(self.model.text_model(input_ids=x).pooler_output, dim=-1)

    export(SigLIPTower(True), (torch.zeros(2, 3, 224, 224),), ["pixels"], {"pixels": {0: "batch"}}, "siglip-b16-image",
           weights)
    export(SigLIPTower(False), (torch.ones(2, 64, dtype=torch.long),), ["ids"], {"ids": {0: "batch"}}, "siglip-b16-text",
           weights)

    xlmr_dir = os.path.join(args.dir, "xlmr-mclip")
    weights = os.path.join(xlmr_dir, "model.safetensors")
    base = transformers.XLMRobertaConfig(
        vocab_size=250002, hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
        max_position_embeddings=514, type_vocab_size=1, layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0,
        eos_token_id=2)

    class MultilingualCLIP(torch.nn.Module):
        """M-CLIP's module: XLM-R, attention-masked mean, LinearTransformation; unit-length output."""

        def __init__(self):
            super().__init__()
            self.transformer = transformers.XLMRobertaModel._from_config(
                base, attn_implementation="eager", add_pooling_layer=False)
            self.LinearTransformation = torch.nn.Linear(768, 640)

        def forward(self, input_ids, attention_mask):
            states = self.transformer(input_ids=input_ids, attention_mask=attention_mask)[0]
            mask = attention_mask.unsqueeze(2).to(states.dtype)
            pooled = (states * mask).sum(dim=1) / mask.sum(dim=1)
            return torch.nn.functional.normalize(self.LinearTransformation(pooled), dim=-1)

    mclip = MultilingualCLIP().eval()
    if os.path.exists(weights):
        from safetensors.torch import load_file
        mclip.load_state_dict(load_file(weights))
    else:
        seeded(mclip, 19)
        os.makedirs(os.path.join(xlmr_dir, "xlm-roberta"), exist_ok=True)
        base.save_pretrained(os.path.join(xlmr_dir, "xlm-roberta"))
        with open(os.path.join(xlmr_dir, "config.json"), "w") as f:
            json.dump({"model_type": "M-CLIP", "modelBase": "xlm-roberta", "transformerDimensions": 768, "numDims": 640}, f)
        save_file({k: v.contiguous() for k, v in mclip.state_dict().items()}, weights)
    mclip.requires_grad_(False)
    export(mclip, (torch.ones(2, 8, dtype=torch.long), torch.ones(2, 8, dtype=torch.long)), ["input_ids", "attention_mask"],
           {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}}, "xlmr-mclip", weights)


def run(args):
    import numpy as np
    import onnxruntime as ort
    import transformers
    from PIL import Image

    results = {"onnxruntime": ort.__version__, "pillow": Image.__version__}
    inputs = json.load(open(os.path.join(args.dir, "inputs.json")))

    def session(name, threads):
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        return ort.InferenceSession(os.path.join(args.dir, name + ".onnx"), options,
                                    providers=["CPUExecutionProvider"])

    parts = set(args.parts.split(","))
    pixels = np.random.default_rng(7).standard_normal((16, 3, 224, 224)).astype(np.float32)
    for precision, suffix in (("fp32", ""), ("int8", "-int8")) if "image" in parts else ():
        for threads in (1, 2):
            s = session("vit-b32" + suffix, threads)
            for batch in (1, 16):
                feed = {"pixels": pixels[:batch]}
                seconds = median_seconds(lambda: s.run(None, feed), args.samples)
                results[f"vit_b32_{precision}_batch{batch}_threads{threads}"] = batch / seconds

    ids = np.zeros((16, 77), dtype=np.int64)
    for i, sequence in enumerate(inputs["clip_text_ids"][:16]):
        ids[i, :len(sequence)] = sequence
    tokenizer = transformers.AutoTokenizer.from_pretrained(args.minilm)
    texts = inputs["minilm_texts"]
    for precision, suffix in (("fp32", ""), ("int8", "-int8")):
        if "text" in parts:
            s = session("clip-b32-text" + suffix, 1)
            for batch in (1, 16):
                feed = {"ids": ids[:batch]}
                results[f"clip_text_{precision}_batch{batch}"] = batch / median_seconds(
                    lambda: s.run(None, feed), args.samples)
        for threads in (1, 2) if "minilm" in parts else ():
            s = session("minilm" + suffix, threads)
            for batch in (1, 32):
                chosen = texts[:batch]

                def embed():
                    x = tokenizer(chosen, padding=True, truncation=True, max_length=256, return_tensors="np")
                    s.run(None, {k: x[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")})

                name = f"minilm_{precision}_batch{batch}" + ("_threads2" if threads == 2 else "")
                results[name] = batch / median_seconds(embed, args.samples)

    siglip_pixels = np.random.default_rng(9).standard_normal((16, 3, 224, 224)).astype(np.float32)
    for threads in (1, 2) if "siglip" in parts else ():
        s = session("siglip-b16-image", threads)
        for batch in (1, 16):
            feed = {"pixels": siglip_pixels[:batch]}
            results[f"siglip_b16_image_fp32_batch{batch}_threads{threads}"] = batch / median_seconds(
                lambda: s.run(None, feed), args.samples)
    siglip_ids = np.array(inputs["siglip_text_ids"], dtype=np.int64)
    for batch in (1, 16) if "siglip" in parts else ():
        s = session("siglip-b16-text", 1)
        feed = {"ids": siglip_ids[:batch]}
        results[f"siglip_b16_text_fp32_batch{batch}"] = batch / median_seconds(lambda: s.run(None, feed), args.samples)
    xlmr = inputs["xlmr_ids"]
    for batch in (1, 16) if "xlmr" in parts else ():
        s = session("xlmr-mclip", 1)
        chosen = xlmr[:batch]
        width = max(len(x) for x in chosen)
        feed = {"input_ids": np.array([x + [1] * (width - len(x)) for x in chosen], dtype=np.int64),
                "attention_mask": np.array([[1] * len(x) + [0] * (width - len(x)) for x in chosen], dtype=np.int64)}
        results[f"xlmr_fp32_batch{batch}"] = batch / median_seconds(lambda: s.run(None, feed), args.samples)

    photo = os.path.join(args.dir, "photo-12mp.jpg")
    mean = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
    std = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)

    def preprocess(draft):
        image = Image.open(photo)
        if draft:
            image.draft("RGB", (224, 224))
        image = image.convert("RGB")
        w, h = image.size
        size = (224, int(224 * h / w)) if w <= h else (int(224 * w / h), 224)
        image = image.resize(size, Image.BICUBIC)
        left, top = round((size[0] - 224) / 2), round((size[1] - 224) / 2)
        image = image.crop((left, top, left + 224, top + 224))
        x = (np.asarray(image, dtype=np.float32) / 255 - mean) / std
        return np.ascontiguousarray(x.transpose(2, 0, 1))

    if "decode" in parts:
        results["decode_preprocess_12mp"] = 1 / median_seconds(lambda: preprocess(False), args.samples)
        results["decode_preprocess_12mp_pil_draft"] = 1 / median_seconds(lambda: preprocess(True), args.samples)
    print(json.dumps(results))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=["prepare", "run"])
    parser.add_argument("--dir", required=True, help="where mms-bench wrote the weights and inputs")
    parser.add_argument("--minilm", required=True, help="the all-MiniLM-L6-v2 folder")
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--parts", default="image,text,minilm,decode,siglip,xlmr",
                        help="the figures to time (run step), as mms-bench encoders --parts names them")
    args = parser.parse_args()
    prepare(args) if args.step == "prepare" else run(args)


if __name__ == "__main__":
    main()
