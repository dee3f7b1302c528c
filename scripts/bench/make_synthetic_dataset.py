"""A VOC-LT-shaped synthetic dataset for end-to-end timing of `tagtune tune`: the 1,142 images of
the official VOC-LT train list with their real labels and captions, each replaced by a generated
JPEG (random coloured shapes on noise, 500×375 like VOC photos). The content is meaningless; the
sizes, label distribution and captions are the real ones, so the job does the work a real one does.

    /work/pyenv-dev/bin/python scripts/bench/make_synthetic_dataset.py [OUT_DIR]   # default .bench/voc-lt-synthetic
"""
import json
import os
import random
import sys

from PIL import Image, ImageDraw

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANN = os.path.join(ROOT, "..", "shared", "data", "lmpt-annotations", "voc")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".bench", "voc-lt-synthetic")
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    names = {}
    for line in open(os.path.join(ANN, "voc_labels.txt"), encoding="utf-8"):
        parts = line.split()
        if parts:
            names[int(parts[-1])] = " ".join(parts[:-1])
    classes = [names[i] for i in sorted(names)]
    captions = {}
    for line in open(os.path.join(ANN, "voc_lt_captions.txt"), encoding="utf-8"):
        path, _, caption = line.strip().partition(" ")
        captions[path] = caption
    rng = random.Random(0)
    rows = []
    for i, line in enumerate(open(os.path.join(ANN, "voc_lt_train.txt"), encoding="utf-8")):
        parts = line.split()
        if not parts:
            continue
        path, ids = parts[0], [int(x) for x in parts[1:]]
        image = Image.effect_noise((500, 375), rng.uniform(20, 80)).convert("RGB")
        draw = ImageDraw.Draw(image)
        for _ in range(rng.randint(1, 5)):
            x, y = rng.randint(0, 450), rng.randint(0, 330)
            draw.ellipse([x, y, x + rng.randint(20, 150), y + rng.randint(20, 150)],
                         fill=tuple(rng.randint(0, 255) for _ in range(3)))
        name = f"images/{i:05d}.jpg"
        image.save(os.path.join(out, name), quality=88)
        row = {"image": name, "labels": sorted({classes[k] for k in ids})}
        if path in captions:
            row["caption"] = captions[path]
        rows.append(row)
    with open(os.path.join(out, "classes.txt"), "w") as f:
        f.write("\n".join(classes) + "\n")
    with open(os.path.join(out, "manifest.jsonl"), "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    print(len(rows), "images,", len(classes), "classes →", out)


if __name__ == "__main__":
    main()
