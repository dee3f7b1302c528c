"""The peers of `tagtune bench`: the same checkpoint's towers in PyTorch (transformers) and in
ONNX Runtime's CPU provider, with the same thread count, so the numbers can be compared in one run.

    /work/pyenv-dev/bin/python scripts/bench/pytorch_bench.py MODEL_DIR [--threads 2] [--batches 1,8,32]
        [--seconds 5] [--text-batch 64] [--onnx]

Prints one JSON object per engine, with the same fields as `tagtune bench --json`.
"""
import argparse
import json
import os
import tempfile
import time

import torch
from transformers import CLIPModel


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


def onnx_vision_session(model, threads):
    """ONNX Runtime's CPU session for the model's vision tower (exported to a temporary file)."""
    import onnxruntime as ort

    size = model.config.vision_config.image_size
    path = os.path.join(tempfile.mkdtemp(), "vision.onnx")
    with torch.inference_mode():
        torch.onnx.export(VisionFeatures(model), (torch.randn(1, 3, size, size),), path, input_names=["pixel_values"],
                          output_names=["embeds"], dynamic_axes={"pixel_values": {0: "b"}}, opset_version=17, dynamo=False)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--batches", default="1,8,32")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--text-batch", type=int, default=64)
    ap.add_argument("--onnx", action="store_true", help="also measure ONNX Runtime (vision tower)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    batches = [int(b) for b in args.batches.split(",")]

    start = time.perf_counter()
    model = CLIPModel.from_pretrained(args.model, attn_implementation="sdpa").eval()
    load = time.perf_counter() - start
    size = model.config.vision_config.image_size
    cases = []
    with torch.inference_mode():
        for b in batches:
            pixels = torch.randn(b, 3, size, size)
            t = measure(lambda: vision_features(model, pixels), args.seconds)
            cases.append({"tower": "vision", "batch": b, "per_second": round(b / t, 2), "ms_per_batch": round(t * 1000, 2)})
        # Texts padded to the longest caption of the batch, as the Hugging Face tokenizer does with padding=True.
        ids = torch.randint(1, 49000, (args.text_batch, 20))
        ids[:, 0], ids[:, -1] = 49406, 49407
        t = measure(lambda: model.get_text_features(input_ids=ids), args.seconds)
        cases.append({"tower": "text", "batch": args.text_batch, "per_second": round(args.text_batch / t, 2), "ms_per_batch": round(t * 1000, 2)})
    print(json.dumps({"engine": f"pytorch {torch.__version__}", "threads": args.threads, "load_seconds": round(load, 3), "cases": cases}))

    if args.onnx:
        import onnxruntime as ort

        session = onnx_vision_session(model, args.threads)
        cases = []
        for b in batches:
            pixels = torch.randn(b, 3, size, size).numpy()
            t = measure(lambda: session.run(None, {"pixel_values": pixels}), args.seconds)
            cases.append({"tower": "vision", "batch": b, "per_second": round(b / t, 2), "ms_per_batch": round(t * 1000, 2)})
        print(json.dumps({"engine": f"onnxruntime {ort.__version__}", "threads": args.threads, "cases": cases}))


if __name__ == "__main__":
    main()
