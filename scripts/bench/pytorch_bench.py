"""The peers of `tagtune bench`: the same checkpoint's towers in PyTorch and in ONNX Runtime's CPU
provider, with the same thread count, so the numbers can be compared in one run.

    /work/pyenv-dev/bin/python scripts/bench/pytorch_bench.py MODEL_DIR [--threads 2] [--batches 1,8,32]
        [--seconds 5] [--text-batch 64] [--onnx]

MODEL_DIR is a Hugging Face folder (config.json: transformers' CLIPModel, vision tower with its
projection = get_image_features) or an open_clip folder (open_clip_config.json: open_clip.create_model
("local-dir:MODEL_DIR"), vision tower = encode_image, e.g. the ModifiedResNet of RN50). ONNX Runtime
runs an ONNX export of that same vision computation (opset 17, dynamic batch axis).

Texts: 20 tokens per caption (SOT, 18 tokens, EOT). transformers runs them padded to the longest
caption of the batch, as its tokenizer does with padding=True; open_clip's CLIP adds its positional
embedding and causal mask over the full context, so there they are zero-padded to context_length (77),
as open_clip's tokenizer does.

Prints one JSON object per engine, with the same fields as `tagtune bench --json`.
"""
import argparse
import json
import os
import tempfile
import time

import torch

OPEN_CLIP_CONFIG = "open_clip_config.json"


def measure(fn, seconds):
    fn()
    calls, start = 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - start < seconds:
        fn()
        calls += 1
    return (time.perf_counter() - start) / calls


def vision_features(model, pixels):
    out = model.get_image_features(pixel_values=pixels)
    return getattr(out, "pooler_output", out)


class VisionFeatures(torch.nn.Module):
    """The vision tower with its projection, as one module for the ONNX export."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, pixel_values):
        return vision_features(self.model, pixel_values)


def is_open_clip_folder(folder):
    """TagTune's rule (CheckpointFolder.choose): the Hugging Face layout when config.json sits beside
    model.safetensors (or its shard index), else open_clip's when open_clip_config.json is there."""
    has = lambda name: os.path.exists(os.path.join(folder, name))  # noqa: E731
    if has("config.json") and (has("model.safetensors") or has("model.safetensors.index.json")):
        return False
    return has(OPEN_CLIP_CONFIG)


class Towers:
    """One checkpoint folder's model, whichever layout: what is timed and what is exported."""

    def __init__(self, folder, sdpa=True):
        self.open_clip = is_open_clip_folder(folder)
        if self.open_clip:
            import open_clip

            with open(os.path.join(folder, OPEN_CLIP_CONFIG), encoding="utf-8") as f:
                model_cfg = json.load(f)["model_cfg"]
            size = model_cfg["vision_cfg"].get("image_size", 224)
            self.image_size = tuple(size) if isinstance(size, (list, tuple)) else (size, size)
            self.context_length = model_cfg["text_cfg"].get("context_length", 77)
            self.vocab_size = model_cfg["text_cfg"].get("vocab_size", 49408)
            self.model = open_clip.create_model("local-dir:" + folder, device="cpu", precision="fp32").eval()
            self.vision_module = self.model.visual   # encode_image(x) is visual(x) (unnormalised)
        else:
            from transformers import CLIPModel

            kwargs = {"attn_implementation": "sdpa"} if sdpa else {}
            self.model = CLIPModel.from_pretrained(folder, **kwargs).eval()
            size = self.model.config.vision_config.image_size
            self.image_size = (size, size)
            self.vocab_size = self.model.config.text_config.vocab_size
            self.vision_module = VisionFeatures(self.model)

    def pixels(self, batch):
        return torch.randn(batch, 3, *self.image_size)

    def vision(self, pixels):
        if self.open_clip:
            return self.model.encode_image(pixels)
        return vision_features(self.model, pixels)

    def text_ids(self, batch, tokens=20):
        """SOT, random tokens, EOT (the two highest ids: 49406, 49407 in CLIP's vocabulary); zero-padded
        to the context for open_clip (see the module docstring)."""
        ids = torch.randint(1, min(49000, self.vocab_size - 2), (batch, tokens))
        ids[:, 0], ids[:, -1] = self.vocab_size - 2, self.vocab_size - 1
        if self.open_clip:
            ids = torch.nn.functional.pad(ids, (0, self.context_length - tokens))
        return ids

    def text(self, ids):
        if self.open_clip:
            return self.model.encode_text(ids)
        return self.model.get_text_features(input_ids=ids)


def onnx_vision_session(towers, threads):
    """ONNX Runtime's CPU session for the vision tower (exported to a temporary file)."""
    import onnxruntime as ort

    path = os.path.join(tempfile.mkdtemp(), "vision.onnx")
    # open_clip's ViTs use nn.MultiheadAttention, which with gradients off takes a fused path that has
    # no ONNX export; with them on (the weights require grad) it runs as plain ops.
    with torch.enable_grad() if towers.open_clip else torch.inference_mode():
        torch.onnx.export(towers.vision_module, (towers.pixels(1),), path, input_names=["pixel_values"],
                          output_names=["embeds"], dynamic_axes={"pixel_values": {0: "b"}, "embeds": {0: "b"}},
                          opset_version=17, dynamo=False)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    # The export must compute what PyTorch does (checked on a batch of 2, so the batch axis is dynamic too).
    pixels = towers.pixels(2)
    with torch.inference_mode():
        want = towers.vision(pixels)
    got = torch.from_numpy(session.run(None, {"pixel_values": pixels.numpy()})[0])
    error = ((got - want).abs().max() / want.abs().max()).item()
    if got.shape != want.shape or not error < 1e-4:
        raise RuntimeError(f"ONNX export differs from PyTorch: shape {tuple(got.shape)} vs {tuple(want.shape)}, "
                           f"max |difference| / max |PyTorch| = {error:.3g}")
    return session


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--batches", default="1,8,32")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--text-batch", type=int, default=64, help="0: no text tower")
    ap.add_argument("--onnx", action="store_true", help="also measure ONNX Runtime (vision tower)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    batches = [int(b) for b in args.batches.split(",")]

    start = time.perf_counter()
    towers = Towers(args.model)
    load = time.perf_counter() - start
    cases = []
    with torch.inference_mode():
        for b in batches:
            pixels = towers.pixels(b)
            t = measure(lambda: towers.vision(pixels), args.seconds)
            cases.append({"tower": "vision", "batch": b, "per_second": round(b / t, 2), "ms_per_batch": round(t * 1000, 2)})
        if args.text_batch > 0:
            ids = towers.text_ids(args.text_batch)
            t = measure(lambda: towers.text(ids), args.seconds)
            cases.append({"tower": "text", "batch": args.text_batch, "per_second": round(args.text_batch / t, 2), "ms_per_batch": round(t * 1000, 2)})
    print(json.dumps({"engine": f"pytorch {torch.__version__}", "threads": args.threads, "load_seconds": round(load, 3), "cases": cases}))

    if args.onnx:
        import onnxruntime as ort

        session = onnx_vision_session(towers, args.threads)
        cases = []
        for b in batches:
            pixels = towers.pixels(b).numpy()
            t = measure(lambda: session.run(None, {"pixel_values": pixels}), args.seconds)
            cases.append({"tower": "vision", "batch": b, "per_second": round(b / t, 2), "ms_per_batch": round(t * 1000, 2)})
        print(json.dumps({"engine": f"onnxruntime {ort.__version__}", "threads": args.threads, "cases": cases}))


if __name__ == "__main__":
    main()
