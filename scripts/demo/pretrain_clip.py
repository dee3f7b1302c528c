"""Pre-trains the embedded demo CLIP: a tiny transformers CLIPModel with its own byte-level BPE
vocabulary, trained contrastively on the Shapes-LT pre-training corpus (pretrain_corpus.py), then
evaluated zero-shot on Shapes-LT test and saved in float16 with its tokenizer and preprocessor files.

    nice -n 19 /work/pyenv-dev/bin/python scripts/demo/pretrain_clip.py [--out demo/model] [--seed 0]
        [--pool-steps 200] [--batch-size 256] [--steps 1500] [--eval-data /tmp/shapes-lt/test]
        [--pool-cache /tmp/clip-pool.npz] [--threads 2]

Stages:
1. pool: pretrain_corpus.batch(seed, step, 256) for step < --pool-steps, generated once in 2 worker
   processes (about 250 pairs/s on 2 cores) and kept in memory (optionally cached in --pool-cache);
   training reuses it for several epochs in a seeded random order.
2. vocabulary: CLIP's byte-level BPE learned from the pool's captions plus the class names: the 256
   byte characters (GPT-2's byte-to-unicode map), the same with "</w>", then one entry per merge,
   then <|startoftext|> and <|endoftext|> (the highest id). Words are split by CLIP's regex after
   whitespace cleaning and lower-casing. Written as vocab.json + merges.txt (#version: 0.2).
3. training: symmetric InfoNCE with a learnable logit scale (init ln(1/0.07), clamped at ln 100),
   AdamW, linear warm-up and cosine decay, images normalised with CLIP's OpenAI mean/std.
4. evaluation: zero-shot with "a photo of a {class}." — per-class AP, mAP, head/medium/tail mAP
   (groups from the train split's counts: >= 100, 20–99, < 20), before and after the fp16 round trip.

--smoke runs a tiny version end to end (few pool steps, few training steps) into --out.
"""
import argparse
import json
import math
import os
import re
import sys
import time
from collections import Counter
from multiprocessing import Pool

import numpy as np
import regex

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pretrain_corpus import batch as corpus_batch  # noqa: E402
from shapes_world import BG_NAMES, CLASSES, COLOUR_NAMES  # noqa: E402

POOL_BATCH = 256
PROMPT = "a photo of a {}."
OPENAI_MEAN = [0.48145466, 0.4578275, 0.40821073]
OPENAI_STD = [0.26862954, 0.26130258, 0.27577711]
SOT, EOT, EOW = "<|startoftext|>", "<|endoftext|>", "</w>"
WORD_RE = regex.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""")
CONTEXT = 77


# ----------------------------------------------------------------------------------------- pool

def _pool_job(args):
    seed, step = args
    images, captions = corpus_batch(seed, step, POOL_BATCH)
    return step, images, captions


def make_pool(seed, steps, workers=2, cache=None, minutes=0.0):
    """Images (n, 80, 80, 3) uint8 and captions of corpus steps 0..k-1, k <= steps (k < steps only
    when --pool-minutes runs out: the pool is then the first k steps, still deterministic).
    cache: a folder with images.npy (memory-mapped on load), captions.json and meta.json."""
    if cache and os.path.exists(os.path.join(cache, "meta.json")):
        meta = json.load(open(os.path.join(cache, "meta.json")))
        if meta["seed"] == seed:
            images = np.load(os.path.join(cache, "images.npy"), mmap_mode="r")
            captions = json.load(open(os.path.join(cache, "captions.json")))
            print(f"pool: loaded {len(captions)} pairs from {cache}", flush=True)
            return images, captions
    t0 = time.time()
    chunks, captions = [], []
    done = 0
    with Pool(workers) as pool:
        # imap keeps step order, so a time-bounded pool is always the prefix 0..done-1.
        for step, ims, caps in pool.imap(_pool_job, [(seed, s) for s in range(steps)]):
            chunks.append(ims)
            captions.extend(caps)
            done = step + 1
            if minutes and time.time() - t0 > 60 * minutes:
                pool.terminate()
                break
    images = np.concatenate(chunks)
    del chunks
    dt = time.time() - t0
    print(f"pool: {len(captions)} pairs ({done} steps) in {dt:.0f} s ({len(captions) / dt:.0f}/s, {workers} workers)", flush=True)
    if cache:
        os.makedirs(cache, exist_ok=True)
        np.save(os.path.join(cache, "images.npy"), images)
        json.dump(captions, open(os.path.join(cache, "captions.json"), "w"))
        json.dump({"seed": seed, "steps": done, "pairs": len(captions)}, open(os.path.join(cache, "meta.json"), "w"))
    return images, captions


# Colour words of objects and backgrounds (longest first, so "light gray" goes before "gray").
COLOUR_WORDS = sorted(set(COLOUR_NAMES) | set(BG_NAMES), key=len, reverse=True)
COLOUR_RE = re.compile(r"\b(" + "|".join(re.escape(w) for w in COLOUR_WORDS) + r")\b ?")
ARTICLE_RE = re.compile(r"\b(a|an) (?=(\w))")


def without_colours(caption):
    """The caption of a grey-scale copy of the image: colour words removed, a/an fixed, so that only
    shape, count, size and position words are left to match (forces the towers to learn shapes)."""
    text = COLOUR_RE.sub("", caption)
    text = ARTICLE_RE.sub(lambda m: ("an " if m.group(2)[0] in "aeiou" else "a "), text)
    return " ".join(text.split())


# ------------------------------------------------------------------------------------ tokenizer

def byte_unicode_map():
    """GPT-2's reversible byte -> printable unicode character map (256 entries, byte order)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    mapping, extra = {}, 0
    for b in range(256):
        if b in keep:
            mapping[b] = chr(b)
        else:
            mapping[b] = chr(256 + extra)
            extra += 1
    return mapping


BYTE_CHAR = byte_unicode_map()


def clean(text):
    return " ".join(text.split()).lower()


def words_of(text):
    """CLIP's pre-tokenisation: cleaned, lower-cased, split by the regex, each word byte-mapped."""
    return ["".join(BYTE_CHAR[b] for b in w.encode("utf-8")) for w in WORD_RE.findall(clean(text))]


def learn_bpe(texts, max_merges, min_count=2):
    """Greedy BPE merges (most frequent adjacent pair; ties by the pair's text) over word counts."""
    freq = Counter(w for t in texts for w in words_of(t))
    words = [[list(w[:-1]) + [w[-1] + EOW], n] for w, n in sorted(freq.items())]
    merges = []
    while len(merges) < max_merges:
        pairs = Counter()
        for syms, n in words:
            for a, b in zip(syms, syms[1:]):
                pairs[(a, b)] += n
        if not pairs:
            break
        best, count = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
        if count < min_count:
            break
        merges.append(best)
        joined = best[0] + best[1]
        for entry in words:
            syms, out, i = entry[0], [], 0
            while i < len(syms):
                if i + 1 < len(syms) and syms[i] == best[0] and syms[i + 1] == best[1]:
                    out.append(joined)
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            entry[0] = out
    return merges


class BPETokenizer:
    """CLIP-format byte-level BPE encoder: ids = [<|startoftext|>] + tokens + [<|endoftext|>]."""

    def __init__(self, merges):
        self.merges = [tuple(m) for m in merges]
        base = [BYTE_CHAR[b] for b in range(256)]
        tokens = base + [c + EOW for c in base] + [a + b for a, b in self.merges] + [SOT, EOT]
        self.vocab = {t: i for i, t in enumerate(tokens)}
        assert len(self.vocab) == len(tokens), "duplicate vocabulary entries"
        self.ranks = {m: i for i, m in enumerate(self.merges)}
        self.sot, self.eot = self.vocab[SOT], self.vocab[EOT]
        self.cache = {}

    def bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        syms = list(word[:-1]) + [word[-1] + EOW]
        while len(syms) > 1:
            pairs = [(self.ranks.get(p, math.inf), i) for i, p in enumerate(zip(syms, syms[1:]))]
            rank, _ = min(pairs)
            if rank == math.inf:
                break
            a, b = self.merges[rank]
            out, i = [], 0
            while i < len(syms):
                if i + 1 < len(syms) and syms[i] == a and syms[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            syms = out
        self.cache[word] = syms
        return syms

    def encode(self, text, context=CONTEXT):
        ids = [self.vocab[t] for w in words_of(text) for t in self.bpe(w)]
        ids = [self.sot] + ids[:context - 2] + [self.eot]
        return ids

    def save(self, folder):
        with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
            json.dump(self.vocab, f, ensure_ascii=False)
        with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
            f.write("#version: 0.2\n")
            for a, b in self.merges:
                f.write(f"{a} {b}\n")
        special = {"bos_token": SOT, "eos_token": EOT, "unk_token": EOT, "pad_token": EOT}
        with open(os.path.join(folder, "special_tokens_map.json"), "w") as f:
            json.dump(special, f, indent=2)
        config = dict(special, tokenizer_class="CLIPTokenizer", model_max_length=CONTEXT,
                      clean_up_tokenization_spaces=False, add_prefix_space=False, errors="replace",
                      do_lower_case=True)
        with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
            json.dump(config, f, indent=2)


def pad_ids(seqs, pad_id):
    """Right-padded LongTensor of ids and attention mask, as long as the longest sequence."""
    import torch
    n = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), n), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), n), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s)
        mask[i, :len(s)] = 1
    return ids, mask


# ---------------------------------------------------------------------------------------- model

def make_model(tok, args):
    from transformers import CLIPConfig, CLIPModel
    text = dict(vocab_size=len(tok.vocab), hidden_size=args.text_width, intermediate_size=4 * args.text_width,
                num_hidden_layers=args.text_layers, num_attention_heads=4, max_position_embeddings=CONTEXT,
                hidden_act="quick_gelu", bos_token_id=tok.sot, eos_token_id=tok.eot, pad_token_id=tok.eot,
                projection_dim=args.proj)
    vision = dict(hidden_size=args.vision_width, intermediate_size=4 * args.vision_width,
                  num_hidden_layers=args.vision_layers, num_attention_heads=4, image_size=80,
                  patch_size=args.patch, num_channels=3, hidden_act="quick_gelu", projection_dim=args.proj)
    config = CLIPConfig(text_config=text, vision_config=vision, projection_dim=args.proj,
                        logit_scale_init_value=math.log(1 / 0.07))
    return CLIPModel(config)


def to_pixels(images_uint8, device="cpu"):
    """(B, H, W, 3) uint8 (numpy or tensor) → normalised (B, 3, H, W) float32 on device."""
    import torch
    x = images_uint8 if isinstance(images_uint8, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(images_uint8))
    x = x.to(device).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(OPENAI_MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(OPENAI_STD, device=device).view(1, 3, 1, 1)
    return (x - mean) / std


def grey(x):
    """Grey copies of uint8 (B, H, W, 3) images (ITU-R 601 luma, as PIL's convert("L"))."""
    luma = (x[..., 0].float() * 0.299 + x[..., 1].float() * 0.587 + x[..., 2].float() * 0.114).round().clamp_(0, 255)
    return luma.to(x.dtype).unsqueeze(-1).expand_as(x)


def padded_ids(token_ids, pad_id):
    """All captions as one (N, CONTEXT) LongTensor padded with pad_id, and their lengths."""
    import torch
    ids = torch.full((len(token_ids), CONTEXT), pad_id, dtype=torch.long)
    for i, s in enumerate(token_ids):
        ids[i, :len(s)] = torch.tensor(s)
    return ids, torch.tensor([len(s) for s in token_ids])


def train(model, images, token_ids, grey_ids, tok, args, validate=None):
    """Contrastive training. images: (N, 80, 80, 3) uint8; token_ids / grey_ids: the captions of the
    colour and the grey-scale version of each image. validate(model) → score, called every
    --eval-every steps; the weights with the best score are kept (by the validation split only)."""
    import torch
    import torch.nn.functional as F
    device = args.device
    torch.manual_seed(args.seed)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embedding" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "embedding" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98), eps=1e-6)
    total = args.steps if args.steps > 0 else 10 ** 9   # --steps 0: chosen from --max-minutes after 50 steps
    warm = args.warmup_steps

    def lr_at(step):
        if step < warm:
            return args.lr * (step + 1) / warm
        progress = min(1.0, (step - warm) / max(1, total - warm))
        return args.lr * 0.5 * (1 + math.cos(math.pi * progress))

    pool = torch.from_numpy(np.ascontiguousarray(images)).to(device)
    ids_all, len_all = padded_ids(token_ids, tok.eot)
    grey_all, grey_len = padded_ids(grey_ids, tok.eot)
    ids_all, len_all, grey_all, grey_len = ids_all.to(device), len_all.to(device), grey_all.to(device), grey_len.to(device)
    gen = torch.Generator(device="cpu").manual_seed(args.seed + 99)
    autocast = torch.autocast(device_type="cuda", dtype=torch.bfloat16) if device.startswith("cuda") else None
    curve, running = [], []
    best = {"score": -1.0, "step": 0, "state": None}
    t0 = time.time()
    model.train()
    step = 0
    while step < total:
        idx = torch.randint(len(pool), (args.batch_size,), generator=gen).to(device)
        make_grey = (torch.rand(args.batch_size, generator=gen) < args.grey_share).to(device)
        x = pool[idx]
        x = torch.where(make_grey.view(-1, 1, 1, 1), grey(x), x)
        ids = torch.where(make_grey.view(-1, 1), grey_all[idx], ids_all[idx])
        n = int(torch.where(make_grey, grey_len[idx], len_all[idx]).max())
        ids = ids[:, :n]
        mask = (torch.arange(n, device=device).view(1, -1) < torch.where(make_grey, grey_len[idx], len_all[idx]).view(-1, 1)).long()
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        if autocast:
            with autocast:
                out = model(input_ids=ids, attention_mask=mask, pixel_values=to_pixels(x, device))
        else:
            out = model(input_ids=ids, attention_mask=mask, pixel_values=to_pixels(x, device))
        logits = out.logits_per_image.float()
        labels = torch.arange(args.batch_size, device=device)
        loss = 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        step += 1
        running.append(loss.detach())
        if args.steps <= 0 and step == 100:
            t100 = time.time()
        if args.steps <= 0 and step == 300:
            # measured after warm-up (CUDA start, neighbours starting up), so the budget is used, not guessed
            per_step = (time.time() - t100) / 200
            total = max(warm + 100, 300 + int((60 * args.max_minutes - (time.time() - t0)) / per_step))
            print(f"steps: {total} ({per_step * 1000:.0f} ms/step, budget {args.max_minutes} min)", flush=True)
        if step % args.log_every == 0 or step == total:
            acc = (logits.argmax(1) == labels).float().mean().item()
            mean_loss = float(torch.stack(running).mean())
            running = []
            row = {"step": step, "loss": round(mean_loss, 4), "batch_i2t_acc": round(acc, 3),
                   "logit_scale": round(model.logit_scale.exp().item(), 2), "lr": lr_at(step - 1),
                   "elapsed_s": round(time.time() - t0, 1)}
            if validate and (step % args.eval_every == 0 or step == total):
                model.eval()
                row["val_mAP"] = round(validate(model), 4)
                model.train()
                if row["val_mAP"] > best["score"]:
                    best = {"score": row["val_mAP"], "step": step,
                            "state": {k: v.detach().clone() for k, v in model.state_dict().items()}}
            curve.append(row)
            print(" ".join(f"{k} {v}" for k, v in row.items()), flush=True)
        if args.steps > 0 and args.max_minutes and time.time() - t0 > 60 * args.max_minutes:
            print(f"stopping at step {step}: time budget {args.max_minutes} min", flush=True)
            break
    if best["state"] is not None:
        model.load_state_dict(best["state"])
        print(f"kept the weights of step {best['step']} (validation mAP {best['score']:.4f})", flush=True)
    model.eval()
    return curve, time.time() - t0, {"step": best["step"], "val_mAP": best["score"]}


# ----------------------------------------------------------------------------------- evaluation

def average_precision(labels, scores):
    """Non-interpolated AP (as sklearn's average_precision_score; ties broken by order)."""
    order = np.argsort(-scores, kind="mergesort")
    y = labels[order]
    hits = np.cumsum(y)
    precision = hits / np.arange(1, len(y) + 1)
    return float((precision * y).sum() / max(1, y.sum()))


def load_split(folder):
    from PIL import Image
    with open(os.path.join(folder, "classes.txt")) as f:
        classes = [line.strip() for line in f if line.strip()]
    rows = [json.loads(line) for line in open(os.path.join(folder, "manifest.jsonl"))]
    images = np.stack([np.asarray(Image.open(os.path.join(folder, r["image"])).convert("RGB")) for r in rows])
    y = np.zeros((len(rows), len(classes)), np.int64)
    for i, r in enumerate(rows):
        for c in r["labels"]:
            y[i, classes.index(c)] = 1
    return classes, images, y


def train_counts(test_folder):
    folder = os.path.join(os.path.dirname(os.path.abspath(test_folder)), "train")
    counts = Counter()
    for line in open(os.path.join(folder, "manifest.jsonl")):
        counts.update(json.loads(line)["labels"])
    return counts


def zero_shot(model, encode, pad_id, classes, images, y, counts, device="cpu"):
    """Per-class AP and mAPs of cosine(image, prompt) scores."""
    import torch
    dtype = next(model.parameters()).dtype
    with torch.no_grad():
        ids, mask = pad_ids([encode(PROMPT.format(c)) for c in classes], pad_id)
        t = model.get_text_features(input_ids=ids.to(device), attention_mask=mask.to(device))
        t = getattr(t, "pooler_output", t).float().cpu()
        feats = []
        for i in range(0, len(images), 250):
            v = model.get_image_features(pixel_values=to_pixels(images[i:i + 250], device).to(dtype))
            feats.append(getattr(v, "pooler_output", v).float().cpu())
        v = torch.cat(feats)
    v = v / v.norm(dim=-1, keepdim=True)
    t = t / t.norm(dim=-1, keepdim=True)
    scores = (v @ t.t()).numpy()
    ap = {c: average_precision(y[:, k], scores[:, k]) for k, c in enumerate(classes)}
    groups = {"head": [c for c in classes if counts[c] >= 100],
              "medium": [c for c in classes if 20 <= counts[c] < 100],
              "tail": [c for c in classes if counts[c] < 20]}
    result = {"mAP": float(np.mean(list(ap.values())))}
    for g, cs in groups.items():
        result[f"{g}_mAP"] = float(np.mean([ap[c] for c in cs])) if cs else float("nan")
    result["chance_mAP"] = float(y.mean(0).mean())
    result["per_class_AP"] = {c: round(a, 4) for c, a in ap.items()}
    return result


def fmt(r):
    return (f"mAP {100 * r['mAP']:.1f} head {100 * r['head_mAP']:.1f} medium {100 * r['medium_mAP']:.1f} "
            f"tail {100 * r['tail_mAP']:.1f} (chance {100 * r['chance_mAP']:.1f})")


# ----------------------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="demo/model")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pool-steps", type=int, default=200, help="corpus batches of 256 to pre-generate (at most)")
    ap.add_argument("--pool-minutes", type=float, default=0, help="stop generating the pool after this long (0: never)")
    ap.add_argument("--pool-cache", default=None, help="folder to load/save the pool (images.npy, captions.json)")
    ap.add_argument("--pool-only", action="store_true", help="generate the pool into --pool-cache and stop")
    ap.add_argument("--workers", type=int, default=2, help="processes generating the pool")
    ap.add_argument("--merges", type=int, default=2000, help="at most this many BPE merges (min count 2)")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--steps", type=int, default=1500, help="0: as many as --max-minutes allows (measured over steps 100-300)")
    ap.add_argument("--max-minutes", type=float, default=0, help="training time budget (0: none)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--warmup-steps", type=int, default=100)
    ap.add_argument("--grey-share", type=float, default=0.3, help="share of pairs shown grey-scale with colour-free captions")
    ap.add_argument("--vision-width", type=int, default=160)
    ap.add_argument("--vision-layers", type=int, default=5)
    ap.add_argument("--patch", type=int, default=10)
    ap.add_argument("--text-width", type=int, default=128)
    ap.add_argument("--text-layers", type=int, default=4)
    ap.add_argument("--proj", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="auto", help="cpu, cuda or auto")
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--eval-every", type=int, default=250, help="validation zero-shot mAP every this many steps")
    ap.add_argument("--shapes-lt", default="/tmp/shapes-lt", help="Shapes-LT folder: val/ selects weights, test/ reports")
    ap.add_argument("--init-from", default=None, help="continue training from a saved model (same pool and seed)")
    ap.add_argument("--smoke", action="store_true", help="tiny end-to-end run")
    args = ap.parse_args()
    if args.smoke:
        args.pool_steps, args.steps, args.log_every, args.eval_every = min(args.pool_steps, 4), min(args.steps, 20), 5, 10

    if args.pool_only:
        make_pool(args.seed, args.pool_steps, workers=args.workers, cache=args.pool_cache, minutes=args.pool_minutes)
        return

    import torch
    import transformers
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t_start = time.time()
    images, captions = make_pool(args.seed, args.pool_steps, workers=args.workers, cache=args.pool_cache,
                                 minutes=args.pool_minutes)

    t0 = time.time()
    grey_captions = [without_colours(c) for c in captions]
    merges = learn_bpe(captions + CLASSES + [PROMPT.format(c) for c in CLASSES], args.merges)
    tok = BPETokenizer(merges)
    token_ids = [tok.encode(c) for c in captions]
    grey_ids = [tok.encode(c) for c in grey_captions]
    lengths = [len(t) for t in token_ids]
    print(f"vocabulary: {len(merges)} merges, {len(tok.vocab)} tokens; captions tokenised in {time.time() - t0:.1f} s; "
          f"tokens mean {np.mean(lengths):.1f} max {max(lengths)}; e.g. {captions[0]!r} → grey {grey_captions[0]!r}", flush=True)

    if args.init_from:
        from transformers import CLIPModel
        model = CLIPModel.from_pretrained(args.init_from, dtype=torch.float32)
        assert model.config.text_config.vocab_size == len(tok.vocab), "init model has another vocabulary"
        print(f"model: initialised from {args.init_from}", flush=True)
    else:
        model = make_model(tok, args)
    model.to(args.device)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params:,} parameters on {args.device}", flush=True)

    val_classes, val_images, val_y = load_split(os.path.join(args.shapes_lt, "val"))
    counts = train_counts(os.path.join(args.shapes_lt, "test"))

    def validate(m):
        return zero_shot(m, tok.encode, tok.eot, val_classes, val_images, val_y, counts, args.device)["mAP"]

    curve, train_s, best = train(model, images, token_ids, grey_ids, tok, args, validate)

    os.makedirs(args.out, exist_ok=True)
    classes, test_images, y = load_split(os.path.join(args.shapes_lt, "test"))
    res32 = zero_shot(model, tok.encode, tok.eot, classes, test_images, y, counts, args.device)
    print("zero-shot test (float32, kept weights):", fmt(res32), flush=True)

    from transformers import CLIPImageProcessor, CLIPModel, CLIPTokenizer
    model.cpu().half().save_pretrained(args.out, safe_serialization=True)
    tok.save(args.out)
    CLIPImageProcessor(do_resize=True, size={"shortest_edge": 80}, resample=3, do_center_crop=True,
                       crop_size={"height": 80, "width": 80}, do_rescale=True, rescale_factor=1 / 255,
                       do_normalize=True, image_mean=OPENAI_MEAN, image_std=OPENAI_STD,
                       do_convert_rgb=True).save_pretrained(args.out)

    # round trip: fp16 weights loaded in float32 on the CPU, HF tokenizer instead of ours
    hf_tok = CLIPTokenizer.from_pretrained(args.out)
    texts = captions[:5000] + grey_captions[:1000] + [PROMPT.format(c) for c in CLASSES]
    mismatches = sum(hf_tok(c)["input_ids"] != tok.encode(c) for c in texts)
    print(f"CLIPTokenizer vs own encoder: {mismatches} mismatches in {len(texts)} texts", flush=True)
    reloaded = CLIPModel.from_pretrained(args.out, dtype=torch.float32).eval()
    res16 = zero_shot(reloaded, lambda s: hf_tok(s)["input_ids"], hf_tok.pad_token_id, classes, test_images, y, counts)
    print("zero-shot test (fp16 weights reloaded in float32, CLIPTokenizer):", fmt(res16), flush=True)

    stats = {"command": " ".join(sys.argv), "args": vars(args), "parameters": n_params,
             "pool_pairs": len(captions), "merges": len(merges), "vocab_size": len(tok.vocab),
             "caption_tokens_mean": float(np.mean(lengths)), "caption_tokens_max": int(max(lengths)),
             "train_wall_s": round(train_s, 1), "total_wall_s": round(time.time() - t_start, 1),
             "steps_done": curve[-1]["step"] if curve else 0, "kept": best, "loss_curve": curve,
             "tokenizer_mismatches": mismatches, "zero_shot_test_fp32": res32, "zero_shot_test_fp16_reloaded": res16,
             "device": torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu",
             "versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                          "transformers": transformers.__version__, "numpy": np.__version__}}
    with open(os.path.join(args.out, "training_stats.json"), "w") as f:
        json.dump(stats, f, indent=1)
    print(f"saved to {args.out}; total {time.time() - t_start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
