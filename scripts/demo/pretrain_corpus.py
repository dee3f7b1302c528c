"""An endless, deterministic corpus of Shapes-LT image–caption pairs for contrastive (CLIP-style)
pre-training, generated on the fly.

Class frequencies are skewed on purpose (Zipf: p(class of rank r) ∝ 1/(r+1)^s, s = 1.1 by default,
rank = the class's index in shapes_world.CLASSES), so a model pre-trained on it is weaker on the
rare classes, as real CLIP is. Each image holds 1–4 distinct classes (co-occurring within the
affinity groups of shapes_world) and is captioned by the same imperfect grammar as Shapes-LT.
Example i of step t for seed s is drawn from its own stream (s, 7, t, i): any batch can be
regenerated alone, and it never shares a stream with the Shapes-LT splits.

    from pretrain_corpus import batch
    images, captions = batch(seed=0, step=123, batch_size=64)    # uint8 (64, 80, 80, 3), 64 strings

    nice -n 19 /work/pyenv-dev/bin/python scripts/demo/pretrain_corpus.py [--seed 0] [--steps 4]
        [--batch-size 64] [--count 2000]    # timing, class frequencies, sample captions
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shapes_world import CLASSES, make_example, sample_labels  # noqa: E402

STREAM = 7                                     # keeps pre-training streams apart from the splits
K_PROBS = [0.45, 0.33, 0.16, 0.06]             # distinct classes per image: 1, 2, 3, 4
AFFINITY = 2.5                                 # weaker than Shapes-LT's 6, to keep the Zipf skew


def class_probs(zipf_s=1.1):
    """Probability of drawing each class (in CLASSES order) as an image's first label."""
    w = 1.0 / np.arange(1, len(CLASSES) + 1, dtype=np.float64) ** zipf_s
    return w / w.sum()


def example(seed, step, index, size=80, zipf_s=1.1):
    """One (PIL image, caption, labels) triple."""
    rng = np.random.default_rng([seed, STREAM, step, index])
    k = int(rng.choice(4, p=K_PROBS)) + 1
    labels = sample_labels(rng, class_probs(zipf_s), k, AFFINITY)
    image, caption, _scene = make_example(rng, labels, size)
    return image, caption, labels


def batch(seed, step, batch_size=64, size=80, zipf_s=1.1, return_labels=False):
    """Images as a uint8 array (batch_size, size, size, 3) and a list of captions; with
    return_labels, also the list of label lists (for checking, not for contrastive training)."""
    images = np.empty((batch_size, size, size, 3), np.uint8)
    captions, labels = [], []
    for i in range(batch_size):
        image, caption, labs = example(seed, step, i, size, zipf_s)
        images[i] = np.asarray(image, dtype=np.uint8)
        captions.append(caption)
        labels.append(labs)
    return (images, captions, labels) if return_labels else (images, captions)


def batches(seed, batch_size=64, start_step=0, size=80, zipf_s=1.1):
    """Endless iterator of (step, images, captions)."""
    step = start_step
    while True:
        images, captions = batch(seed, step, batch_size, size, zipf_s)
        yield step, images, captions
        step += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--zipf", type=float, default=1.1)
    args = ap.parse_args()
    counts = np.zeros(len(CLASSES), int)
    n = 0
    t0 = time.time()
    for step in range(args.steps):
        images, captions, labels = batch(args.seed, step, args.batch_size, zipf_s=args.zipf, return_labels=True)
        for labs in labels:
            for c in labs:
                counts[CLASSES.index(c)] += 1
        n += len(captions)
    dt = time.time() - t0
    print(f"{n} pairs in {dt:.1f} s ({n / dt:.0f}/s), images {images.shape} {images.dtype}")
    print("images containing each class (% of images):")
    print("  " + ", ".join(f"{c} {100 * k / n:.1f}" for c, k in zip(CLASSES, counts)))
    again = batch(args.seed, args.steps - 1, args.batch_size, zipf_s=args.zipf)
    print("deterministic:", bool(np.array_equal(again[0], images) and again[1] == captions))
    for cap, labs in list(zip(captions, labels))[:8]:
        print(f"  {labs}: {cap}")


if __name__ == "__main__":
    main()
