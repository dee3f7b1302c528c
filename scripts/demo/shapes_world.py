"""Shapes-LT world: a deterministic procedural generator of small multi-label images and captions.

An image (default 80×80 RGB) holds 1–4 objects from 20 classes (geometric shapes and simple icons),
each with a random colour, size, position, rotation and outline, drawn over a textured or noisy
background; later objects may partly hide earlier ones (each object keeps at least about half of
its area visible). Captions come from a small grammar with synonyms, counts, colours, sizes,
positions and backgrounds, and are imperfect on purpose: they sometimes leave an object out, and
sometimes describe only colours and the background.

Everything is drawn from a numpy Generator passed in by the caller: the same seed gives the same
pixels and the same caption (PNG bytes are identical with the same Pillow/zlib build).

    from shapes_world import CLASSES, make_example
    rng = np.random.default_rng(0)
    image, caption, scene = make_example(rng, ["star", "ring"])
"""
import math
import re

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

# Class order matters: make_shapes_lt.py maps class 0 to the largest VOC-LT count and class 19 to
# the smallest, and pretrain_corpus.py uses the same order for its Zipf ranks.
CLASSES = [
    "circle", "square", "star", "heart", "house", "arrow",           # head   (≥ 100 in train)
    "triangle", "cup", "crescent", "ring", "tree", "cross",          # medium (20–99)
    "hexagon", "key", "bolt", "diamond", "umbrella", "spiral", "bell", "pentagon",  # tail (< 20)
]

# Affinity groups: classes of a group tend to appear together (like people and chairs). Each group
# mixes frequent and rare classes, so rare classes are mostly seen next to a frequent partner.
GROUPS = {
    "geometry": ["circle", "square", "triangle", "hexagon", "pentagon"],
    "sky": ["star", "crescent", "bolt"],
    "charms": ["heart", "ring", "diamond"],
    "outdoors": ["house", "tree", "umbrella"],
    "signs": ["arrow", "cross", "spiral"],
    "table": ["cup", "key", "bell"],
}
CLASS_GROUP = {c: g for g, members in GROUPS.items() for c in members}
CLASS_INDEX = {c: i for i, c in enumerate(CLASSES)}

# Caption nouns: (singular, plural) synonyms per class; the first is the most common.
SYNONYMS = {
    "circle": [("circle", "circles"), ("disc", "discs"), ("disk", "disks")],
    "square": [("square", "squares"), ("box", "boxes"), ("block", "blocks")],
    "star": [("star", "stars")],
    "heart": [("heart", "hearts")],
    "house": [("house", "houses"), ("home", "homes"), ("hut", "huts")],
    "arrow": [("arrow", "arrows"), ("pointer", "pointers")],
    "triangle": [("triangle", "triangles")],
    "cup": [("cup", "cups"), ("mug", "mugs")],
    "crescent": [("crescent", "crescents"), ("moon", "moons"), ("crescent moon", "crescent moons")],
    "ring": [("ring", "rings"), ("donut", "donuts"), ("hoop", "hoops")],
    "tree": [("tree", "trees"), ("pine tree", "pine trees"), ("fir", "firs")],
    "cross": [("cross", "crosses"), ("plus sign", "plus signs")],
    "hexagon": [("hexagon", "hexagons")],
    "key": [("key", "keys")],
    "bolt": [("lightning bolt", "lightning bolts"), ("bolt", "bolts"), ("zigzag", "zigzags")],
    "diamond": [("diamond", "diamonds"), ("gem", "gems"), ("jewel", "jewels")],
    "umbrella": [("umbrella", "umbrellas"), ("parasol", "parasols")],
    "spiral": [("spiral", "spirals"), ("swirl", "swirls")],
    "bell": [("bell", "bells")],
    "pentagon": [("pentagon", "pentagons")],
}

# Object colours (name → RGB); each object jitters its colour a little.
COLOURS = {
    "red": (210, 40, 40), "orange": (240, 140, 30), "yellow": (240, 215, 40),
    "green": (50, 160, 60), "blue": (40, 80, 210), "purple": (130, 50, 170),
    "pink": (240, 110, 170), "brown": (125, 75, 35), "black": (25, 25, 25),
    "white": (245, 245, 245), "gray": (128, 128, 128), "cyan": (40, 200, 210),
}
COLOUR_NAMES = list(COLOURS)

# Background colours (name → RGB), muted.
BG_COLOURS = {
    "white": (236, 234, 228), "light gray": (195, 195, 192), "gray": (130, 130, 128),
    "dark gray": (62, 62, 66), "black": (18, 18, 22), "beige": (226, 210, 176),
    "light blue": (182, 205, 230), "pale green": (192, 220, 182), "pale pink": (232, 200, 204),
    "navy": (32, 40, 84), "olive": (110, 110, 60), "sand": (200, 180, 130),
}
BG_NAMES = list(BG_COLOURS)
BG_KINDS = ["plain", "gradient", "stripes", "checker", "dots", "noise", "grid"]
BG_PHRASES = {
    "plain": ["a {c} background", "a plain {c} background", "{c}"],
    "gradient": ["a gradient background", "a shaded background", "a {c} gradient"],
    "stripes": ["a striped background", "stripes", "a background of {c} stripes"],
    "checker": ["a checkered background", "a checkerboard", "a chequered pattern"],
    "dots": ["a dotted background", "a polka dot background", "a spotty background"],
    "noise": ["a noisy background", "a grainy background", "a mottled background"],
    "grid": ["a grid background", "a grid", "graph paper"],
}

NUMBERS = {2: "two", 3: "three", 4: "four"}
SUPERSAMPLE = 3                      # drawn at 3× and downsampled: smooth edges
FREE_ROTATION = {"circle", "square", "star", "triangle", "ring", "cross", "arrow", "crescent",
                 "hexagon", "pentagon", "spiral", "key", "diamond"}   # others stay roughly upright


# ---------------------------------------------------------------------------------------------
# Shapes: each class is a list of drawing operations in unit coordinates (x right, y down, the
# object fits in [-1, 1]²): ("poly", points, keep) fills a polygon (keep=False cuts a hole),
# ("line", points, width, keep) strokes a polyline.

def _circle(cx, cy, r, n=48, a0=0.0, a1=2 * math.pi):
    return [(cx + r * math.cos(a), cy + r * math.sin(a))
            for a in np.linspace(a0, a1, n, endpoint=(a1 - a0) < 2 * math.pi - 1e-9)]


def _regular(n, r, phase=-math.pi / 2):
    return [(r * math.cos(phase + 2 * math.pi * k / n), r * math.sin(phase + 2 * math.pi * k / n))
            for k in range(n)]


def _rect(x0, y0, x1, y1):
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def _star():
    return [((1.0 if k % 2 == 0 else 0.42) * math.cos(-math.pi / 2 + math.pi * k / 5),
             (1.0 if k % 2 == 0 else 0.42) * math.sin(-math.pi / 2 + math.pi * k / 5))
            for k in range(10)]


def _heart():
    pts = []
    for t in np.linspace(0, 2 * math.pi, 60, endpoint=False):
        x = 16 * math.sin(t) ** 3
        y = -(13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t))
        pts.append((x / 17.0, (y + 2.5) / 17.0))
    return pts


def _spiral():
    pts = []
    turns = 2.6
    for t in np.linspace(0, 1, 80):
        a = 2 * math.pi * turns * t
        r = 0.08 + 0.85 * t
        pts.append((r * math.cos(a), r * math.sin(a)))
    return pts


SHAPES = {
    "circle": [("poly", _circle(0, 0, 0.95), True)],
    "square": [("poly", _rect(-0.8, -0.8, 0.8, 0.8), True)],
    "triangle": [("poly", _regular(3, 1.0), True)],
    "star": [("poly", _star(), True)],
    "ring": [("poly", _circle(0, 0, 0.95), True), ("poly", _circle(0, 0, 0.55), False)],
    "cross": [("poly", [(-0.27, -0.95), (0.27, -0.95), (0.27, -0.27), (0.95, -0.27), (0.95, 0.27),
                        (0.27, 0.27), (0.27, 0.95), (-0.27, 0.95), (-0.27, 0.27), (-0.95, 0.27),
                        (-0.95, -0.27), (-0.27, -0.27)], True)],
    "heart": [("poly", _heart(), True)],
    "arrow": [("poly", [(-0.95, -0.18), (0.15, -0.18), (0.15, -0.62), (0.95, 0.0), (0.15, 0.62),
                        (0.15, 0.18), (-0.95, 0.18)], True)],
    "crescent": [("poly", _circle(0, 0, 0.95), True), ("poly", _circle(0.42, -0.18, 0.78), False)],
    "hexagon": [("poly", _regular(6, 0.95, 0.0), True)],
    "diamond": [("poly", [(-0.55, -0.62), (0.55, -0.62), (0.95, -0.2), (0.0, 0.95), (-0.95, -0.2)], True),
                ("line", [(-0.95, -0.2), (0.95, -0.2)], 0.09, False),
                ("line", [(-0.2, -0.62), (-0.35, -0.2), (0.0, 0.9)], 0.07, False),
                ("line", [(0.2, -0.62), (0.35, -0.2), (0.0, 0.9)], 0.07, False)],
    "pentagon": [("poly", _regular(5, 0.98), True)],
    "spiral": [("line", _spiral(), 0.17, True)],
    "bolt": [("poly", [(0.15, -1.0), (-0.55, 0.12), (-0.08, 0.12), (-0.3, 1.0), (0.55, -0.18),
                       (0.08, -0.18), (0.42, -1.0)], True)],
    "key": [("poly", _circle(-0.55, 0.0, 0.4), True), ("poly", _circle(-0.55, 0.0, 0.17), False),
            ("poly", _rect(-0.2, -0.1, 0.95, 0.1), True),
            ("poly", _rect(0.52, 0.05, 0.66, 0.38), True), ("poly", _rect(0.78, 0.05, 0.92, 0.3), True)],
    "house": [("poly", [(-0.95, -0.02), (0.0, -0.92), (0.95, -0.02)], True),
              ("poly", _rect(-0.68, -0.1, 0.68, 0.92), True),
              ("poly", _rect(0.45, -0.85, 0.65, -0.4), True),
              ("poly", _rect(-0.16, 0.38, 0.16, 0.92), False),
              ("poly", _rect(-0.5, 0.1, -0.28, 0.32), False)],
    "tree": [("poly", _rect(-0.13, 0.55, 0.13, 0.98), True),
             ("poly", [(-0.75, 0.62), (0.0, -0.05), (0.75, 0.62)], True),
             ("poly", [(-0.58, 0.22), (0.0, -0.52), (0.58, 0.22)], True),
             ("poly", [(-0.42, -0.18), (0.0, -0.98), (0.42, -0.18)], True)],
    "cup": [("poly", _circle(0.42, 0.02, 0.36), True), ("poly", _circle(0.42, 0.02, 0.19), False),
            ("poly", [(-0.62, -0.6), (0.4, -0.6), (0.28, 0.68), (-0.5, 0.68)], True),
            ("poly", _rect(-0.85, 0.72, 0.62, 0.86), True)],
    "umbrella": [("poly", _circle(0, 0.05, 0.95, 40, math.pi, 2 * math.pi) + [(0.95, 0.05)], True),
                 ("poly", _circle(-0.63, 0.1, 0.33), False), ("poly", _circle(0.0, 0.1, 0.33), False),
                 ("poly", _circle(0.63, 0.1, 0.33), False),
                 ("line", [(0.0, -0.2), (0.0, 0.78)] + _circle(-0.18, 0.78, 0.18, 12, 0.0, math.pi),
                  0.11, True)],
    "bell": [("poly", [(-0.26, -0.72), (0.26, -0.72), (0.44, -0.45), (0.52, 0.2), (0.88, 0.6),
                       (-0.88, 0.6), (-0.52, 0.2), (-0.44, -0.45)], True),
             ("poly", _circle(0.0, 0.75, 0.18), True), ("poly", _circle(0.0, -0.82, 0.13), True)],
}
assert set(SHAPES) == set(CLASSES) == set(SYNONYMS) == set(CLASS_GROUP)


def _transform(points, cx, cy, r, angle):
    c, s = math.cos(angle), math.sin(angle)
    return [(cx + r * (x * c - y * s), cy + r * (x * s + y * c)) for x, y in points]


def shape_mask(cls, cx, cy, r, angle, width, height):
    """The object's coverage as an 'L' image of the given size (255 inside)."""
    mask = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    for op in SHAPES[cls]:
        if op[0] == "poly":
            draw.polygon(_transform(op[1], cx, cy, r, angle), fill=255 if op[2] else 0)
        else:
            pts = _transform(op[1], cx, cy, r, angle)
            w = max(1, int(round(op[2] * r)))
            draw.line(pts, fill=255 if op[3] else 0, width=w, joint="curve")
            for x, y in (pts[0], pts[-1]):          # round caps
                draw.ellipse([x - w / 2, y - w / 2, x + w / 2, y + w / 2], fill=255 if op[3] else 0)
    return mask


# ---------------------------------------------------------------------------------------------
# Backgrounds (numpy float arrays at the supersampled size).

def _bg_pair(rng):
    a, b = rng.choice(len(BG_NAMES), size=2, replace=False)
    return BG_NAMES[a], BG_NAMES[b]


def _jitter(rng, rgb, amount):
    return np.clip(np.array(rgb, dtype=np.float32) + rng.uniform(-amount, amount, 3), 0, 255)


def make_background(rng, n, scale):
    """Returns (H×W×3 float32 array, kind, name of main colour, list of colours used)."""
    kind = BG_KINDS[rng.choice(len(BG_KINDS), p=[0.18, 0.14, 0.16, 0.12, 0.12, 0.16, 0.12])]
    n1, n2 = _bg_pair(rng)
    c1, c2 = _jitter(rng, BG_COLOURS[n1], 12), _jitter(rng, BG_COLOURS[n2], 12)
    if kind in ("stripes", "checker", "dots", "grid") and np.abs(c1 - c2).sum() > 200:
        c2 = c1 + 0.45 * (c2 - c1)          # keep patterns lower contrast than the objects
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32) / scale   # in output pixels
    theta = rng.uniform(0, math.pi)
    u = xx * math.cos(theta) + yy * math.sin(theta)
    v = -xx * math.sin(theta) + yy * math.cos(theta)
    if kind == "plain":
        t = np.zeros((n, n), np.float32)
    elif kind == "gradient":
        t = (u - u.min()) / max(1e-6, u.max() - u.min())
    elif kind == "stripes":
        period = rng.uniform(6, 16)
        t = (np.sin(2 * math.pi * u / period) > rng.uniform(-0.3, 0.3)).astype(np.float32)
    elif kind == "checker":
        cell = rng.uniform(6, 14)
        t = ((np.floor(u / cell) + np.floor(v / cell)) % 2).astype(np.float32)
    elif kind == "dots":
        period = rng.uniform(7, 13)
        fu, fv = (u / period) % 1 - 0.5, (v / period) % 1 - 0.5
        t = (fu * fu + fv * fv < rng.uniform(0.04, 0.09)).astype(np.float32)
    elif kind == "grid":
        period = rng.uniform(7, 14)
        w = rng.uniform(0.08, 0.16)
        t = (((u / period) % 1 < w) | ((v / period) % 1 < w)).astype(np.float32)
    else:  # noise: smooth value noise blending the two colours
        g = int(rng.integers(4, 10))
        coarse = Image.fromarray((rng.random((g, g)) * 255).astype(np.uint8), "L")
        t = np.asarray(coarse.resize((n, n), Image.BICUBIC), dtype=np.float32) / 255.0
    bg = c1[None, None, :] * (1 - t[..., None]) + c2[None, None, :] * t[..., None]
    used = [c1] if kind == "plain" else [c1, c2]
    return bg.astype(np.float32), kind, n1, used


# ---------------------------------------------------------------------------------------------
# Scenes.

def plan_objects(rng, labels, max_objects=4):
    """Objects to draw for a set of distinct labels: a list of class names (1–4 long) where each
    label appears at least once."""
    labels = list(labels)
    k = len(labels)
    if not 1 <= k <= max_objects:
        raise ValueError(f"need 1..{max_objects} distinct labels, got {labels}")
    extra_choices = list(range(0, max_objects - k + 1))
    extra_p = np.array([0.55, 0.30, 0.15, 0.05][:len(extra_choices)])
    extra = int(rng.choice(extra_choices, p=extra_p / extra_p.sum()))
    objects = labels + [labels[int(rng.integers(k))] for _ in range(extra)]
    order = rng.permutation(len(objects))
    return [objects[i] for i in order]


_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _contrast(rgb, bg):
    """Enough colour and brightness difference to see the object on that background colour."""
    dist = float(np.abs(rgb - bg).sum())
    return dist > 200 and (abs(float(_LUMA @ (rgb - bg))) > 45 or dist > 300)


def _pick_colour(rng, bg_colours, avoid=()):
    for _ in range(40):
        name = COLOUR_NAMES[int(rng.integers(len(COLOUR_NAMES)))]
        if name in avoid:
            continue
        rgb = np.array(COLOURS[name], np.float32)
        if all(_contrast(rgb, c) for c in bg_colours):
            return name
    return "white" if float(np.mean(bg_colours[0])) < 128 else "black"


def render_scene(rng, objects, size=80):
    """Draws the objects (class names) on a random background. Returns (PIL RGB image, scene),
    where scene = {"background": (kind, colour name), "objects": [{"cls", "colour", "x", "y",
    "r", "visible"}, ...]} in output pixel coordinates; every object keeps ≥ 50% of its area visible."""
    s = SUPERSAMPLE
    n = size * s
    for _attempt in range(20):
        bg, kind, bg_name, bg_cols = make_background(rng, n, s)
        canvas = bg.copy()
        owner = np.full((n, n), -1, np.int16)
        full_area = []
        placed = []
        same_colour = {}
        ok = True
        crowd = len(objects)
        for idx, cls in enumerate(objects):
            if cls in same_colour and rng.random() < 0.6:
                colour = same_colour[cls]
            else:   # mostly keep different classes in different colours
                avoid = {c for k, c in same_colour.items() if k != cls} if rng.random() < 0.7 else set()
                colour = _pick_colour(rng, bg_cols, avoid)
            same_colour.setdefault(cls, colour)
            base = {1: (9, 24), 2: (8, 19), 3: (7, 16), 4: (7, 14)}[min(crowd, 4)]
            success = False
            for tries in range(40):
                shrink = 1.0 - 0.02 * tries
                r = rng.uniform(*base) * shrink * size / 80
                margin = 0.55 * r
                cx = rng.uniform(margin, size - margin)
                cy = rng.uniform(margin, size - margin)
                rot = rng.uniform(-math.pi, math.pi) if cls in FREE_ROTATION else rng.uniform(-0.4, 0.4)
                # the object's mask in a local box around it (the shapes fit within radius √2)
                half = int(math.ceil(1.45 * r * s)) + 4
                x0, y0 = int(math.floor(cx * s)) - half, int(math.floor(cy * s)) - half
                box = 2 * half + 1
                local = shape_mask(cls, cx * s - x0, cy * s - y0, r * s, rot, box, box)
                outline = rng.random() < 0.5
                inner_local = local
                if outline:
                    local = local.filter(ImageFilter.MaxFilter(5))
                arr_local = np.asarray(local, dtype=np.uint8)
                area = int((arr_local > 127).sum())
                ya, yb, xa, xb = max(0, y0), min(n, y0 + box), max(0, x0), min(n, x0 + box)
                if area == 0 or ya >= yb or xa >= xb:
                    continue
                m = arr_local[ya - y0:yb - y0, xa - x0:xb - x0]
                inside = m > 127
                if inside.sum() < 0.6 * area:
                    continue
                # would this hide too much of an earlier object?
                trial = owner.copy()
                trial[ya:yb, xa:xb][inside] = idx
                counts = np.bincount(trial[trial >= 0].ravel(), minlength=idx + 1)
                if any(counts[j] < 0.5 * full_area[j] for j in range(idx)):
                    continue
                success = True
                break
            if not success:
                ok = False
                break
            owner = trial
            full_area.append(area)
            rgb = _jitter(rng, COLOURS[colour], 18)
            # light shading across the object
            ga = rng.uniform(0, 2 * math.pi)
            yy, xx = np.mgrid[ya:yb, xa:xb].astype(np.float32)
            grad = ((xx - cx * s) * math.cos(ga) + (yy - cy * s) * math.sin(ga)) / max(1.0, r * s)
            shade = 1.0 + rng.uniform(0.0, 0.18) * np.clip(grad, -1, 1)
            fill = np.clip(rgb[None, None, :] * shade[..., None], 0, 255)
            alpha = m.astype(np.float32)[..., None] / 255.0
            region = canvas[ya:yb, xa:xb]
            if outline:
                dark = rgb * rng.uniform(0.2, 0.5) if rgb.mean() > 70 else np.minimum(rgb + 120, 255)
                region = region * (1 - alpha) + dark[None, None, :] * alpha
                inner = np.asarray(inner_local, dtype=np.uint8)[ya - y0:yb - y0, xa - x0:xb - x0]
                alpha = inner.astype(np.float32)[..., None] / 255.0
            canvas[ya:yb, xa:xb] = region * (1 - alpha) + fill * alpha
            placed.append({"cls": cls, "colour": colour, "x": round(cx, 2), "y": round(cy, 2),
                           "r": round(r, 2)})
        if not ok:
            continue
        counts = np.bincount(owner[owner >= 0].ravel(), minlength=len(objects))
        for j, obj in enumerate(placed):
            obj["visible"] = round(float(counts[j]) / full_area[j], 3)
        img = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8), "RGB")
        img = img.resize((size, size), Image.BOX)
        noise_sigma = 0.0
        if kind == "noise" or rng.random() < 0.25:
            noise_sigma = float(rng.uniform(2.0, 7.0))
            arr = np.asarray(img, dtype=np.float32)
            arr = arr + rng.normal(0, noise_sigma, (size, size, 1)) * np.ones(3, np.float32)
            img = Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), "RGB")
        return img, {"background": (kind, bg_name), "noise": round(noise_sigma, 2), "objects": placed}
    raise RuntimeError(f"could not place {objects}")


# ---------------------------------------------------------------------------------------------
# Captions.

def _article(word):
    return ("an " if word[0] in "aeiou" else "a ") + word


def _size_word(rng, r, size):
    rel = r * 80 / size
    if rel < 9.5:
        return ["small", "tiny", "little"][int(rng.integers(3))] if rng.random() < 0.6 else ""
    if rel > 16:
        return ["big", "large"][int(rng.integers(2))] if rng.random() < 0.6 else ""
    return ""


def _position_word(x, y, size):
    col = "left" if x < size / 3 else ("right" if x > 2 * size / 3 else "")
    row = "top" if y < size / 3 else ("bottom" if y > 2 * size / 3 else "")
    if not col and not row:
        return "in the middle"
    if col and row:
        return f"in the {row} {col} corner"
    return f"on the {col or row}" if col else f"at the {row}"


def _describe_group(rng, objs, noun, size):
    """'a small red star', 'two blue rings', 'a red ring and a blue ring', 'three triangles'."""
    sing, plur = noun
    colours = [o["colour"] for o in objs]
    use_colour = rng.random() < 0.8
    if len(objs) == 1:
        words = [_size_word(rng, objs[0]["r"], size), colours[0] if use_colour else "", sing]
        return _article(" ".join(w for w in words if w))
    if len(set(colours)) == 1:
        count = NUMBERS[len(objs)] if rng.random() < 0.85 else ["some", "several", "a few"][int(rng.integers(3))]
        words = [count, colours[0] if use_colour else "", plur]
        return " ".join(w for w in words if w)
    if len(objs) == 2 and rng.random() < 0.6:
        return f"{_article(colours[0] + ' ' + sing)} and {_article(colours[1] + ' ' + sing)}"
    return f"{NUMBERS[len(objs)]} {plur}"


def _join(parts):
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _relation(a, b):
    dx, dy = b["x"] - a["x"], b["y"] - a["y"]
    if abs(dy) > 1.3 * abs(dx):
        return "above" if dy > 0 else "below"
    if abs(dx) > 1.3 * abs(dy):
        return "to the left of" if dx > 0 else "to the right of"
    return ["next to", "beside", "near"][int(abs(dx * 7 + dy * 3)) % 3]


def caption_scene(rng, scene, size=80):
    """A caption for a scene from render_scene (imperfect on purpose)."""
    return re.sub(r"\ba (?=[aeiou])", "an ", _caption(rng, scene, size))


def _caption(rng, scene, size):
    objs = scene["objects"]
    kind, bg_colour = scene["background"]
    groups = {}
    for o in objs:
        groups.setdefault(o["cls"], []).append(o)
    order = list(groups)
    rng.shuffle(order)
    bg_phrase = BG_PHRASES[kind][int(rng.integers(3))].format(c=bg_colour)
    if kind == "plain" and bg_phrase == bg_colour:
        bg_phrase = f"a {bg_colour} background"

    roll = rng.random()
    if roll < 0.05:                               # attributes only: no class names
        cols = sorted({o["colour"] for o in objs}, key=COLOUR_NAMES.index)
        noun = ["shapes", "objects", "things", "icons"][int(rng.integers(4))]
        lead = _join(cols) + " " + noun if rng.random() < 0.7 else ["colourful", "some", "a few"][int(rng.integers(3))] + " " + noun
        return f"{lead} on {bg_phrase}"

    # sometimes leave one object group out (the least visible one), as real captions do
    if len(order) >= 2 and rng.random() < 0.15:
        worst = min(order, key=lambda c: min(o["visible"] for o in groups[c]))
        order.remove(worst)

    nouns = {c: SYNONYMS[c][0] if rng.random() < 0.6 else SYNONYMS[c][int(rng.integers(len(SYNONYMS[c])))]
             for c in order}
    phrases = [_describe_group(rng, groups[c], nouns[c], size) for c in order]
    style = rng.random()
    if len(order) >= 2 and style < 0.4:           # relation between the first two groups
        a, b = groups[order[0]][0], groups[order[1]][0]
        text = f"{phrases[0]} {_relation(a, b)} {phrases[1]}"
        if len(order) > 2:
            text += [", with ", " and ", " next to "][int(rng.integers(3))] + _join(phrases[2:])
    elif len(order) == 1 and len(groups[order[0]]) == 1 and style < 0.35:
        o = groups[order[0]][0]
        text = f"{phrases[0]} {_position_word(o['x'], o['y'], size)}"
    else:
        text = _join(phrases)
    r = rng.random()
    if r < 0.45:
        text += [" on ", " against ", " over "][int(rng.integers(3))] + bg_phrase
    if rng.random() < 0.25:
        text = ["a picture of ", "an image of ", "a drawing of ", "a photo of ", "a sketch of "][int(rng.integers(5))] + text
    return text


_MENTION = re.compile(r"\b(" + "|".join(sorted({re.escape(w) for c in SYNONYMS for pair in SYNONYMS[c] for w in pair},
                                                   key=len, reverse=True)) + r")\b")
_WORD_CLASS = {w: c for c in SYNONYMS for pair in SYNONYMS[c] for w in pair}


def mentioned_classes(caption):
    """The classes a caption names (by any synonym)."""
    return sorted({_WORD_CLASS[m] for m in _MENTION.findall(caption)}, key=CLASS_INDEX.get)


def make_example(rng, labels, size=80):
    """Draws an image holding every class in labels (1–4 distinct class names) and captions it.
    Returns (PIL image, caption, scene)."""
    objects = plan_objects(rng, labels)
    image, scene = render_scene(rng, objects, size)
    assert {o["cls"] for o in scene["objects"]} == set(labels)
    return image, caption_scene(rng, scene, size), scene


def sample_labels(rng, class_probs, n_labels, affinity=6.0):
    """n_labels distinct classes: the first by class_probs, each further one by class_probs ×
    affinity for classes that share a group with one already chosen."""
    p = np.asarray(class_probs, np.float64).copy()
    chosen = []
    for _ in range(n_labels):
        w = p.copy()
        for c in chosen:
            w[c] = 0.0
        groups = {CLASS_GROUP[CLASSES[c]] for c in chosen}
        for i, name in enumerate(CLASSES):
            if CLASS_GROUP[name] in groups:
                w[i] *= affinity
        if w.sum() <= 0:
            break
        chosen.append(int(rng.choice(len(w), p=w / w.sum())))
    return [CLASSES[c] for c in chosen]
