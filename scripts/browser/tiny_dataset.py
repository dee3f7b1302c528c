"""A tiny long-tailed dataset zip for the browser tests, drawn with the Shapes-LT world
(scripts/demo/shapes_world.py): exact image counts per class, one class in each of head (≥ 100),
medium (20–99) and tail (< 20) at least, captions from the world's grammar."""
import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "demo"))
from shapes_world import make_example  # noqa: E402

# Images per class: 1 head, 2 medium and 2 tail classes, still so after the 10% validation hold-out.
COUNTS = {"circle": 118, "star": 40, "heart": 25, "key": 9, "bell": 6}


def plan_labels(counts, rng, max_labels=3):
    """Label sets, one per image, that give every class exactly its count: each image takes up to
    `max_labels` distinct classes among those still needed, the most needed first by chance."""
    needed = dict(counts)
    images = []
    while any(needed.values()):
        open_classes = [name for name, left in needed.items() if left > 0]
        k = int(rng.integers(1, min(max_labels, len(open_classes)) + 1))
        weights = np.array([needed[name] for name in open_classes], dtype=np.float64)
        chosen = list(rng.choice(open_classes, size=k, replace=False, p=weights / weights.sum()))
        for name in chosen:
            needed[name] -= 1
        images.append([str(name) for name in chosen])
    return images


def write_dataset_zip(path, counts=COUNTS, seed=7):
    """Writes the zip and returns its counts per class."""
    rng = np.random.default_rng(seed)
    label_sets = plan_labels(counts, rng)
    lines = []
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("classes.txt", "".join(f"{name}\n" for name in counts))
        for index, labels in enumerate(label_sets):
            image, caption, _ = make_example(rng, labels)
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            name = f"images/{index:04d}.png"
            archive.writestr(name, buffer.getvalue())
            lines.append(json.dumps({"image": name, "labels": labels, "caption": caption}))
        archive.writestr("manifest.jsonl", "\n".join(lines) + "\n")
    realised = {name: sum(name in labels for labels in label_sets) for name in counts}
    assert realised == dict(counts), realised
    return realised, len(label_sets)


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "tiny-shapes.zip")
    counts, images = write_dataset_zip(out)
    print(f"{out}: {images} images, {counts}")
