"""TagTune against ONNX Runtime on the vision tower, in alternating rounds.

On a shared machine the speed drifts by 5-15% within minutes, so one TagTune run followed by
one peer run can favour either side. Here each round runs `tagtune bench towers` (another
process) and then ONNX Runtime's CPU provider on the same checkpoint and thread count, and the
summary gives, per engine and batch size, the median and the best of the rounds.

    /work/pyenv-dev/bin/python scripts/bench/interleaved_vision.py MODEL_DIR
        [--rounds 4] [--seconds 3] [--threads 2] [--batches 1,8,32] [--tagtune .build/release/tagtune]
        [--peers-only]

MODEL_DIR is a Hugging Face or an open_clip folder (see pytorch_bench.py). --peers-only leaves
TagTune out: each round then times PyTorch and ONNX Runtime on the vision tower, alternating the same
way, and the summary compares those two (for a model TagTune does not run yet, or to check the peers).

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

from pytorch_bench import Towers, measure, onnx_vision_session


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--batches", default="1,8,32")
    ap.add_argument("--tagtune", default=".build/release/tagtune")
    ap.add_argument("--peers-only", action="store_true", help="no TagTune: PyTorch against ONNX Runtime")
    args = ap.parse_args()
    batches = [int(b) for b in args.batches.split(",")]

    torch.set_num_threads(args.threads)
    towers = Towers(args.model, sdpa=False)
    session = onnx_vision_session(towers, args.threads)
    inputs = {b: towers.pixels(b).numpy() for b in batches}
    if args.peers_only:
        first = "pytorch"
        tensors = {b: torch.from_numpy(x) for b, x in inputs.items()}
    else:
        first = "tagtune"
        del towers

    rates = {first: {b: [] for b in batches}, "onnxruntime": {b: [] for b in batches}}
    for round_ in range(args.rounds):
        if args.peers_only:
            with torch.inference_mode():
                for b in batches:
                    t = measure(lambda: towers.vision(tensors[b]), args.seconds)
                    rates["pytorch"][b].append(b / t)
        else:
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
            f"b{b} {rates[first][b][-1]:.2f}/{rates['onnxruntime'][b][-1]:.2f}" for b in batches), flush=True)

    peers = f"; PyTorch {torch.__version__}" if args.peers_only else ""
    print(f"images/s over {args.rounds} alternating rounds, {args.threads} threads (median, best); ONNX Runtime {ort.__version__}{peers}")
    for b in batches:
        t, o = rates[first][b], rates["onnxruntime"][b]
        print(f"batch {b:3d}: {first} {statistics.median(t):7.2f} {max(t):7.2f}   onnxruntime {statistics.median(o):7.2f} {max(o):7.2f}"
              f"   ratio of medians {statistics.median(t) / statistics.median(o):.3f}")


if __name__ == "__main__":
    main()
