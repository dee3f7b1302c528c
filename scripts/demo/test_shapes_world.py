"""Quick checks of the Shapes-LT generator (no pytest needed; about 10 s):

    nice -n 19 /work/pyenv-dev/bin/python scripts/demo/test_shapes_world.py
"""
import hashlib
import io
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_shapes_lt  # noqa: E402
import pretrain_corpus  # noqa: E402
from shapes_world import CLASSES, make_example, mentioned_classes  # noqa: E402


def png_digest(seed, labels):
    image, caption, _ = make_example(np.random.default_rng(seed), labels)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return hashlib.sha256(buf.getvalue() + caption.encode()).hexdigest()


def test_deterministic():
    assert png_digest(5, ["star", "ring"]) == png_digest(5, ["star", "ring"])
    assert png_digest(5, ["star", "ring"]) != png_digest(6, ["star", "ring"])


def test_every_class_renders():
    for i, cls in enumerate(CLASSES):
        image, caption, scene = make_example(np.random.default_rng(i), [cls])
        assert image.size == (80, 80) and image.mode == "RGB"
        assert {o["cls"] for o in scene["objects"]} == {cls}
        assert all(o["visible"] >= 0.5 for o in scene["objects"])
        assert set(mentioned_classes(caption)) <= {cls}, caption


def test_sampler_hits_voc_lt_counts():
    rng = np.random.default_rng(0)
    targets, n = make_shapes_lt.split_targets("train")
    sets = make_shapes_lt.sample_label_sets(targets, n, rng)
    assert len(sets) == 1142
    counts = np.zeros(len(CLASSES), int)
    for s in sets:
        assert 1 <= len(s) <= 4 and len(set(s)) == len(s)
        counts[s] += 1
    assert np.all(np.abs(counts - targets) <= np.maximum(1, 0.03 * np.array(targets))), counts
    groups = [make_shapes_lt.group_name(c) for c in counts]
    assert (groups.count("head"), groups.count("medium"), groups.count("tail")) == (6, 6, 8)


def test_small_dataset_files():
    with tempfile.TemporaryDirectory() as out:
        st = make_shapes_lt.write_split(out, "val", 0, 80, 0.05)
        assert os.path.exists(os.path.join(out, "val", "images", "00001.png"))
        lines = open(os.path.join(out, "val", "manifest.jsonl")).read().splitlines()
        assert len(lines) == st["images"] and st["min_positives"] >= 3
        assert open(os.path.join(out, "val", "classes.txt")).read().split("\n")[:20] == CLASSES


def test_pretrain_batch():
    a_img, a_cap = pretrain_corpus.batch(0, 3, 8)
    b_img, b_cap = pretrain_corpus.batch(0, 3, 8)
    assert a_img.shape == (8, 80, 80, 3) and a_img.dtype == np.uint8
    assert np.array_equal(a_img, b_img) and a_cap == b_cap
    c_img, _ = pretrain_corpus.batch(0, 4, 8)
    assert not np.array_equal(a_img, c_img)
    p = pretrain_corpus.class_probs()
    assert abs(p.sum() - 1) < 1e-9 and p[0] > 10 * p[-1]


if __name__ == "__main__":
    for name, fn in list(globals().items()):
        if name.startswith("test_"):
            fn()
            print("ok", name)
