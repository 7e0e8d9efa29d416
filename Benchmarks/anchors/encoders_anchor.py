#!/usr/bin/env python3
"""The PyTorch anchor for `mms-bench encoders`: the same figures, same inputs, one thread.

* all-MiniLM-L6-v2 through transformers' BertModel with sentence-transformers'
  mean pooling and L2 normalisation, tokenisation included, batch 1 and 32;
* the CLIP ViT-B/32 image tower built by open_clip with random weights
  (QuickGELU), 224×224 inputs, batch 1 and --image-batch.

Prints one JSON object {"minilm_texts_per_s_batch1": …, …}. Runs in the venv
of scripts/fixtures/requirements-encoders.txt (`.venv-encoders`).

    .venv-encoders/bin/python Benchmarks/anchors/encoders_anchor.py --sentences s.json --minilm DIR
"""

import argparse
import json
import sys
import time
import types

# The PyPI torchvision wheel is built against CUDA PyTorch; open_clip needs only its Python parts.
sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")

import open_clip  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402


def median_seconds(body, samples):
    body()
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sentences", required=True, help="JSON list of the texts to embed")
    parser.add_argument("--minilm", help="the all-MiniLM-L6-v2 folder (skipped when absent)")
    parser.add_argument("--samples", type=int, default=7)
    parser.add_argument("--image-batch", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--parts", default="text,image")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    transformers.logging.set_verbosity_error()
    parts = set(args.parts.split(","))
    results = {}

    if "text" in parts and args.minilm:
        texts = json.load(open(args.sentences))
        tokenizer = transformers.AutoTokenizer.from_pretrained(args.minilm)
        model = transformers.BertModel.from_pretrained(args.minilm, add_pooling_layer=False).eval()

        def embed(batch):
            with torch.inference_mode():
                x = tokenizer(batch, padding=True, truncation=True, max_length=256, return_tensors="pt")
                states = model(**x).last_hidden_state
                mask = x["attention_mask"].unsqueeze(-1).float()
                return torch.nn.functional.normalize((states * mask).sum(1) / mask.sum(1), dim=1)

        for batch in (1, 32):
            chosen = texts[:batch]
            results[f"minilm_texts_per_s_batch{batch}"] = batch / median_seconds(lambda: embed(chosen), args.samples)

    if "image" in parts:
        torch.manual_seed(11)
        model = open_clip.model.CLIP(
            embed_dim=512, quick_gelu=True,
            vision_cfg=dict(image_size=224, layers=12, width=768, patch_size=32),
            text_cfg=dict(context_length=77, vocab_size=49408, width=512, heads=8, layers=12)).eval()
        for batch in sorted({1, args.image_batch}):
            pixels = torch.randn(batch, 3, 224, 224, generator=torch.Generator().manual_seed(7))

            def run():
                with torch.inference_mode():
                    model.encode_image(pixels, normalize=True)

            results[f"vit_b32_images_per_s_batch{batch}"] = batch / median_seconds(run, args.samples)

    results["torch"] = torch.__version__
    print(json.dumps(results))


if __name__ == "__main__":
    main()
