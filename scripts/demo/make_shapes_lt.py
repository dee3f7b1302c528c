"""Writes the Shapes-LT dataset: train/, val/ and test/ folders in TagTune's dataset format
(classes.txt, manifest.jsonl, images/NNNNN.png), drawn by shapes_world.py.

Train follows the VOC-LT per-class profile (class 0 ↔ 775 images … class 19 ↔ 4; 1,142 images,
6 head ≥ 100, 6 medium 20–99, 8 tail < 20). Val is about 15% of train (every class ≥ 3 times).
Test has 2,000 images, every class ≥ 150 times. Deterministic: the same --seed gives the same bytes.

    nice -n 19 /work/pyenv-dev/bin/python scripts/demo/make_shapes_lt.py [--out demo/shapes-lt] [--seed 0]
        [--size 80] [--scale 1.0] [--splits train,val,test]

--scale multiplies every split's counts (e.g. 0.05 for a quick smoke run). Prints the achieved
per-class counts, the head/medium/tail split, sizes and timings, and writes stats.json.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shapes_world import CLASSES, CLASS_GROUP, make_example, mentioned_classes  # noqa: E402

VOC_LT_COUNTS = [775, 479, 249, 240, 154, 100, 82, 64, 48, 34, 29, 20, 17, 14, 11, 8, 7, 6, 5, 4]
VOC_LT_IMAGES = 1142
SPLIT_IDS = {"train": 1, "val": 2, "test": 3}
# Share of images with 1, 2, 3, 4 distinct classes before adjusting to the label total.
K_SHARE = [0.33, 0.37, 0.24, 0.06]


def split_targets(split, scale=1.0):
    """(per-class targets, number of images) for a split."""
    if split == "train":
        targets = [max(1, round(c * scale)) for c in VOC_LT_COUNTS]
        n_images = max(1, round(VOC_LT_IMAGES * scale))
    elif split == "val":
        targets = [max(3, round(0.15 * c * scale)) for c in VOC_LT_COUNTS]
        n_images = max(1, round(sum(targets) * VOC_LT_IMAGES / sum(VOC_LT_COUNTS)))
    else:
        targets = [max(3, round((150 + 0.5 * c) * scale)) for c in VOC_LT_COUNTS]
        n_images = max(1, round(2000 * scale))
    return targets, n_images


def labels_per_image(n_images, total, rng):
    """How many distinct classes each image gets (1–4), summing exactly to total where possible."""
    total = min(max(total, n_images), 4 * n_images)
    counts = [int(round(s * n_images)) for s in K_SHARE]
    counts[0] += n_images - sum(counts)
    ks = np.repeat(np.arange(1, 5), counts)
    diff = total - int(ks.sum())
    # move single images up or down one class at a time, spreading the change over k values
    order = np.arange(n_images)
    while diff != 0:
        step = 1 if diff > 0 else -1
        rng.shuffle(order)
        moved = False
        for i in order:
            if 1 <= ks[i] + step <= 4:
                ks[i] += step
                diff -= step
                moved = True
                if diff == 0:
                    break
        if not moved:
            break
    return ks


def sample_label_sets(targets, n_images, rng, affinity=6.0):
    """Label sets for n_images images whose per-class totals match targets as closely as possible,
    with co-occurrence inside affinity groups.

    The number of classes per image is fixed first (summing to the label total); images are then
    filled largest first, each class drawn without replacement with weight = remaining deficit ×
    affinity (if it shares a group with a class already in the image). Deficit-proportional draws
    exhaust every class together, so the totals come out exact unless the last images run out of
    distinct classes with a deficit; those slots take the class with the smallest overshoot."""
    n_classes = len(targets)
    ks = labels_per_image(n_images, int(sum(targets)), rng)
    ks = np.sort(ks)[::-1]
    remaining = np.array(targets, np.float64)
    group_of = np.array([list(dict.fromkeys(CLASS_GROUP.values())).index(CLASS_GROUP[c]) for c in CLASSES])
    sets = []
    for k in ks:
        chosen = []
        for _ in range(int(k)):
            w = np.clip(remaining, 0, None)
            if chosen:
                boost = np.isin(group_of, group_of[chosen])
                w = w * np.where(boost, affinity, 1.0)
            w[chosen] = 0.0
            if w.sum() <= 0:      # no class with a deficit is left for this image
                w = np.ones(n_classes)
                w[chosen] = 0.0
                w = w / (1.0 + np.abs(remaining))  # prefer the smallest overshoot
            c = int(rng.choice(n_classes, p=w / w.sum()))
            chosen.append(c)
            remaining[c] -= 1
        sets.append(sorted(chosen))
    rng.shuffle(sets)
    return sets


def group_name(count):
    return "head" if count >= 100 else ("medium" if count >= 20 else "tail")


def write_split(out, split, seed, size, scale):
    targets, n_images = split_targets(split, scale)
    plan_rng = np.random.default_rng([seed, SPLIT_IDS[split], 0])
    sets = sample_label_sets(targets, n_images, plan_rng)
    folder = os.path.join(out, split)
    os.makedirs(os.path.join(folder, "images"), exist_ok=True)
    rows, nbytes = [], 0
    t0 = time.time()
    for i, ids in enumerate(sets):
        rng = np.random.default_rng([seed, SPLIT_IDS[split], 1, i])   # one stream per image
        labels = [CLASSES[c] for c in ids]
        image, caption, _scene = make_example(rng, labels, size)
        name = f"images/{i + 1:05d}.png"
        path = os.path.join(folder, name)
        image.save(path, format="PNG", optimize=False, compress_level=9)
        nbytes += os.path.getsize(path)
        rows.append({"image": name, "labels": labels, "caption": caption})
    with open(os.path.join(folder, "classes.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(CLASSES) + "\n")
    with open(os.path.join(folder, "manifest.jsonl"), "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    achieved = np.zeros(len(CLASSES), int)
    for ids in sets:
        achieved[ids] += 1
    per_image = np.bincount([len(s) for s in sets], minlength=5)[1:]
    seconds = time.time() - t0
    named = [set(mentioned_classes(r["caption"])) for r in rows]
    captions = {
        "all_labels_named": round(sum(m == set(r["labels"]) for m, r in zip(named, rows)) / len(rows), 3),
        "no_class_named": round(sum(not m for m in named) / len(rows), 3),
        "mean_words": round(sum(len(r["caption"].split()) for r in rows) / len(rows), 1),
    }
    stats = {
        "images": len(rows), "labels": int(achieved.sum()), "png_bytes": nbytes,
        "seconds": round(seconds, 2),
        "classes_per_image": {str(k + 1): int(v) for k, v in enumerate(per_image)},
        "per_class": {c: {"target": int(t), "achieved": int(a)} for c, t, a in zip(CLASSES, targets, achieved)},
        "groups": {g: sum(1 for a in achieved if group_name(a) == g) for g in ("head", "medium", "tail")},
        "min_positives": int(achieved.min()),
        "captions": captions,
    }
    return stats


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="demo/shapes-lt")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", type=int, default=80)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--splits", default="train,val,test")
    args = ap.parse_args()
    all_stats = {"seed": args.seed, "size": args.size, "scale": args.scale, "classes": CLASSES}
    t_all = time.time()
    for split in args.splits.split(","):
        st = write_split(args.out, split, args.seed, args.size, args.scale)
        all_stats[split] = st
        print(f"{split}: {st['images']} images, {st['labels']} labels, "
              f"{st['png_bytes'] / 1e6:.2f} MB PNG ({st['png_bytes'] / max(1, st['images']) / 1e3:.1f} kB/image), "
              f"{st['seconds']:.1f} s; classes/image {st['classes_per_image']}; "
              + (f"head/medium/tail {st['groups']['head']}/{st['groups']['medium']}/{st['groups']['tail']}"
                 if split == "train" else f"fewest positives {st['min_positives']}"))
        worst = 0.0
        cells = []
        for c, v in st["per_class"].items():
            worst = max(worst, abs(v["achieved"] - v["target"]) / v["target"])
            cells.append(f"{c} {v['achieved']}/{v['target']}")
        print("   " + ", ".join(cells) + f"  (largest deviation {100 * worst:.1f}%)")
        cs = st["captions"]
        print(f"   captions: all labels named {100 * cs['all_labels_named']:.1f}%, none named "
              f"{100 * cs['no_class_named']:.1f}% (attributes only), {cs['mean_words']} words on average")
    all_stats["seconds"] = round(time.time() - t_all, 2)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "stats.json"), "w", encoding="utf-8") as f:
        json.dump(all_stats, f, indent=1)
    print(f"total {all_stats['seconds']:.1f} s → {args.out}")


if __name__ == "__main__":
    main()
