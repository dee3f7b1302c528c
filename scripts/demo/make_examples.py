"""Copies a few Shapes-LT test images into demo/examples/ for trying the server, the CLI and the web
page: the first test images, in manifest order, that together show head, medium and tail classes
(one JPEG copy too, so both decoders are exercised), plus examples.json with their labels and captions.

    python3 scripts/demo/make_examples.py [--test demo/shapes-lt/test] [--out demo/examples]
"""
import argparse
import json
import os
import shutil

from PIL import Image

# (wanted labels, must include) — chosen to cover one to four objects and every group.
WANTED = [
    ["circle"], ["square", "star"], ["house", "tree"], ["heart", "ring"],
    ["spiral"], ["bell"], ["umbrella", "cup"], ["key"],
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--test", default="demo/shapes-lt/test")
    ap.add_argument("--out", default="demo/examples")
    args = ap.parse_args()
    rows = [json.loads(line) for line in open(os.path.join(args.test, "manifest.jsonl"))]
    os.makedirs(args.out, exist_ok=True)
    examples, used = [], set()
    for want in WANTED:
        row = next(r for r in rows if r["image"] not in used and set(want) <= set(r["labels"])
                   and len(r["labels"]) <= len(want) + 1)
        used.add(row["image"])
        name = f"{len(examples) + 1:02d}-{'-'.join(row['labels'])}"
        source = os.path.join(args.test, row["image"])
        if len(examples) == 1:   # one JPEG, to show the other decoder
            file = name + ".jpg"
            Image.open(source).convert("RGB").save(os.path.join(args.out, file), quality=92)
        else:
            file = name + ".png"
            shutil.copyfile(source, os.path.join(args.out, file))
        examples.append({"file": file, "labels": row["labels"], "caption": row.get("caption", ""),
                         "source": row["image"]})
    with open(os.path.join(args.out, "examples.json"), "w") as f:
        json.dump({"from": "Shapes-LT test split (seed 0)", "examples": examples}, f, indent=1)
    for e in examples:
        print(e["file"], e["labels"])


if __name__ == "__main__":
    main()
