"""TagTune against ONNX Runtime on the vision tower, in alternating rounds.

On a shared machine the speed drifts by 5-15% within minutes, so one TagTune run followed by
one peer run can favour either side. Here each round runs `tagtune bench towers` (another
process) and then ONNX Runtime's CPU provider on the same checkpoint and thread count, and the
summary gives, per engine and batch size, the median and the best of the rounds.

    /work/pyenv-dev/bin/python scripts/bench/interleaved_vision.py MODEL_DIR
        [--rounds 4] [--seconds 3] [--threads 2] [--batches 1,8,32] [--tagtune .build/release/tagtune]

Run it as compare_towers.sh is run (release build, the environment's OpenBLAS settings as wanted).
"""
import argparse
import json
import os
import statistics
import subprocess
import time

import onnxruntime as ort
import torch
from transformers import CLIPModel

from pytorch_bench import measure, onnx_vision_session


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--batches", default="1,8,32")
    ap.add_argument("--tagtune", default=".build/release/tagtune")
    args = ap.parse_args()
    batches = [int(b) for b in args.batches.split(",")]

    torch.set_num_threads(args.threads)
    model = CLIPModel.from_pretrained(args.model).eval()
    size = model.config.vision_config.image_size
    session = onnx_vision_session(model, args.threads)
    del model
    inputs = {b: torch.randn(b, 3, size, size).numpy() for b in batches}

    rates = {"tagtune": {b: [] for b in batches}, "onnxruntime": {b: [] for b in batches}}
    for round_ in range(args.rounds):
        out = subprocess.run([args.tagtune, "bench", "towers", "--model", args.model, "--threads", str(args.threads),
                              "--batches", args.batches, "--seconds", str(args.seconds), "--text-batch", "0", "--json"],
                             check=True, capture_output=True, text=True).stdout
        report = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
        for case in report["cases"]:
            rates["tagtune"][case["batch"]].append(case["per_second"])
        time.sleep(0.5)
        for b in batches:
            t = measure(lambda: session.run(None, {"pixel_values": inputs[b]}), args.seconds)
            rates["onnxruntime"][b].append(b / t)
        time.sleep(0.5)
        print(f"round {round_ + 1}: " + "  ".join(
            f"b{b} {rates['tagtune'][b][-1]:.2f}/{rates['onnxruntime'][b][-1]:.2f}" for b in batches), flush=True)

    print(f"images/s over {args.rounds} alternating rounds, {args.threads} threads (median, best); ONNX Runtime {ort.__version__}")
    for b in batches:
        t, o = rates["tagtune"][b], rates["onnxruntime"][b]
        print(f"batch {b:3d}: tagtune {statistics.median(t):7.2f} {max(t):7.2f}   onnxruntime {statistics.median(o):7.2f} {max(o):7.2f}"
              f"   ratio of medians {statistics.median(t) / statistics.median(o):.3f}")


if __name__ == "__main__":
    main()
