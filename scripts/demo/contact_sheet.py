"""Draws a contact sheet of dataset images with their labels and captions, to check by eye that
the classes are distinguishable and the captions match.

    nice -n 19 /work/pyenv-dev/bin/python scripts/demo/contact_sheet.py DATASET_DIR [--n 12]
        [--out /tmp/shapes_sheet.png] [--zoom 3] [--cols 4]
"""
import argparse
import json
import os
import textwrap

from PIL import Image, ImageDraw


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset")
    ap.add_argument("--n", type=int, default=12)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--out", default="/tmp/shapes_sheet.png")
    ap.add_argument("--zoom", type=int, default=3)
    ap.add_argument("--cols", type=int, default=4)
    args = ap.parse_args()
    with open(os.path.join(args.dataset, "manifest.jsonl"), encoding="utf-8") as f:
        rows = [json.loads(line) for line in f][args.first:args.first + args.n]
    first = Image.open(os.path.join(args.dataset, rows[0]["image"]))
    w, h = first.width * args.zoom, first.height * args.zoom
    cell_w, text_h = max(w, 250) + 10, 64
    rows_n = (len(rows) + args.cols - 1) // args.cols
    sheet = Image.new("RGB", (args.cols * cell_w, rows_n * (h + text_h + 10)), "white")
    draw = ImageDraw.Draw(sheet)
    for k, row in enumerate(rows):
        x, y = (k % args.cols) * cell_w + 5, (k // args.cols) * (h + text_h + 10) + 5
        image = Image.open(os.path.join(args.dataset, row["image"])).convert("RGB")
        sheet.paste(image.resize((w, h), Image.NEAREST), (x, y))
        lines = ["[" + ", ".join(row["labels"]) + "]"] + textwrap.wrap(row.get("caption", ""), 40)
        for j, line in enumerate(lines[:5]):
            draw.text((x, y + h + 2 + 12 * j), line, fill=(0, 0, 160) if j == 0 else "black")
    sheet.save(args.out)
    print(f"{len(rows)} images → {args.out}")


if __name__ == "__main__":
    main()
