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
import sys
import time
from collections import Counter
from multiprocessing import Pool

import numpy as np
import regex

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pretrain_corpus import batch as corpus_batch  # noqa: E402
from shapes_world import CLASSES  # noqa: E402

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


def make_pool(seed, steps, workers=2, cache=None):
    """Images (steps*256, 80, 80, 3) uint8 and captions of corpus steps 0..steps-1."""
    if cache and os.path.exists(cache):
        data = np.load(cache)
        if data["images"].shape[0] == steps * POOL_BATCH and int(data["seed"]) == seed:
            print(f"pool: loaded {cache}", flush=True)
            return data["images"], [str(c) for c in data["captions"]]
    t0 = time.time()
    images = np.empty((steps * POOL_BATCH, 80, 80, 3), np.uint8)
    captions = [None] * (steps * POOL_BATCH)
    with Pool(workers) as pool:
        for step, ims, caps in pool.imap_unordered(_pool_job, [(seed, s) for s in range(steps)]):
            images[step * POOL_BATCH:(step + 1) * POOL_BATCH] = ims
            captions[step * POOL_BATCH:(step + 1) * POOL_BATCH] = caps
    dt = time.time() - t0
    print(f"pool: {len(captions)} pairs in {dt:.0f} s ({len(captions) / dt:.0f}/s)", flush=True)
    if cache:
        np.savez(cache, images=images, captions=np.array(captions), seed=seed)
    return images, captions


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


def to_pixels(images_uint8):
    import torch
    x = torch.from_numpy(images_uint8).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(OPENAI_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(OPENAI_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def train(model, images, token_ids, tok, args):
    import torch
    import torch.nn.functional as F
    torch.manual_seed(args.seed)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embedding" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "embedding" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98), eps=1e-6)
    warm = max(1, int(args.warmup * args.steps))

    def lr_at(step):
        if step < warm:
            return args.lr * (step + 1) / warm
        progress = (step - warm) / max(1, args.steps - warm)
        return args.lr * 0.5 * (1 + math.cos(math.pi * progress))

    rng = np.random.default_rng([args.seed, 99])
    order, pos = rng.permutation(len(images)), 0
    curve = []
    t0, running = time.time(), []
    model.train()
    for step in range(args.steps):
        if pos + args.batch_size > len(order):
            order, pos = rng.permutation(len(images)), 0
        idx = np.sort(order[pos:pos + args.batch_size])
        pos += args.batch_size
        pixels = to_pixels(images[idx])
        ids, mask = pad_ids([token_ids[i] for i in idx], tok.eot)
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        out = model(input_ids=ids, attention_mask=mask, pixel_values=pixels)
        logits = out.logits_per_image
        labels = torch.arange(len(idx))
        loss = 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        running.append(loss.item())
        if (step + 1) % args.log_every == 0 or step + 1 == args.steps:
            acc = (logits.argmax(1) == labels).float().mean().item()
            mean_loss = float(np.mean(running))
            running = []
            curve.append({"step": step + 1, "loss": round(mean_loss, 4), "batch_i2t_acc": round(acc, 3),
                          "logit_scale": round(model.logit_scale.exp().item(), 2),
                          "lr": lr_at(step), "elapsed_s": round(time.time() - t0, 1)})
            print(f"step {step + 1}/{args.steps} loss {mean_loss:.4f} acc {acc:.3f} "
                  f"scale {model.logit_scale.exp().item():.1f} lr {lr_at(step):.2e} {time.time() - t0:.0f}s", flush=True)
        if args.max_minutes and time.time() - t0 > 60 * args.max_minutes:
            print(f"stopping at step {step + 1}: time budget {args.max_minutes} min", flush=True)
            break
    model.eval()
    return curve, time.time() - t0


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


def zero_shot(model, encode, pad_id, classes, images, y, counts, dtype=None):
    """Per-class AP and mAPs of cosine(image, prompt) scores."""
    import torch
    dtype = dtype or next(model.parameters()).dtype
    with torch.no_grad():
        ids, mask = pad_ids([encode(PROMPT.format(c)) for c in classes], pad_id)
        t = model.get_text_features(input_ids=ids, attention_mask=mask)
        t = getattr(t, "pooler_output", t)
        feats = []
        for i in range(0, len(images), 250):
            v = model.get_image_features(pixel_values=to_pixels(images[i:i + 250]).to(dtype))
            feats.append(getattr(v, "pooler_output", v).float())
        v = torch.cat(feats)
    v = v / v.norm(dim=-1, keepdim=True)
    t = t.float() / t.float().norm(dim=-1, keepdim=True)
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
    ap.add_argument("--pool-steps", type=int, default=200, help="corpus batches of 256 to pre-generate")
    ap.add_argument("--pool-cache", default=None, help="npz to load/save the pool")
    ap.add_argument("--merges", type=int, default=2000, help="at most this many BPE merges (min count 2)")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--max-minutes", type=float, default=0, help="stop training early after this long (0: never)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--warmup", type=float, default=0.05, help="share of steps")
    ap.add_argument("--vision-width", type=int, default=160)
    ap.add_argument("--vision-layers", type=int, default=5)
    ap.add_argument("--patch", type=int, default=10)
    ap.add_argument("--text-width", type=int, default=128)
    ap.add_argument("--text-layers", type=int, default=4)
    ap.add_argument("--proj", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--eval-data", default="/tmp/shapes-lt/test")
    ap.add_argument("--init-from", default=None, help="continue training from a saved model (same pool and seed)")
    ap.add_argument("--smoke", action="store_true", help="tiny end-to-end run")
    args = ap.parse_args()
    if args.smoke:
        args.pool_steps, args.steps, args.log_every = min(args.pool_steps, 8), min(args.steps, 20), 5

    import torch
    import transformers
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t_start = time.time()
    images, captions = make_pool(args.seed, args.pool_steps, workers=args.threads, cache=args.pool_cache)

    t0 = time.time()
    merges = learn_bpe(captions + CLASSES + [PROMPT.format(c) for c in CLASSES], args.merges)
    tok = BPETokenizer(merges)
    token_ids = [tok.encode(c) for c in captions]
    lengths = [len(t) for t in token_ids]
    print(f"vocabulary: {len(merges)} merges, {len(tok.vocab)} tokens, learned in {time.time() - t0:.1f} s; "
          f"caption tokens mean {np.mean(lengths):.1f} max {max(lengths)}", flush=True)

    if args.init_from:
        from transformers import CLIPModel
        model = CLIPModel.from_pretrained(args.init_from, dtype=torch.float32)
        assert model.config.text_config.vocab_size == len(tok.vocab), "init model has another vocabulary"
        print(f"model: initialised from {args.init_from}", flush=True)
    else:
        model = make_model(tok, args)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params:,} parameters", flush=True)
    curve, train_s = train(model, images, token_ids, tok, args)

    os.makedirs(args.out, exist_ok=True)
    classes, test_images, y = load_split(args.eval_data)
    counts = train_counts(args.eval_data)
    res32 = zero_shot(model, tok.encode, tok.eot, classes, test_images, y, counts)
    print("zero-shot (float32, trained):", fmt(res32), flush=True)

    from transformers import CLIPImageProcessor, CLIPModel, CLIPTokenizer
    model.half().save_pretrained(args.out, safe_serialization=True)
    tok.save(args.out)
    CLIPImageProcessor(do_resize=True, size={"shortest_edge": 80}, resample=3, do_center_crop=True,
                       crop_size={"height": 80, "width": 80}, do_rescale=True, rescale_factor=1 / 255,
                       do_normalize=True, image_mean=OPENAI_MEAN, image_std=OPENAI_STD,
                       do_convert_rgb=True).save_pretrained(args.out)

    # round trip: fp16 weights loaded in float32, HF tokenizer instead of ours
    hf_tok = CLIPTokenizer.from_pretrained(args.out)
    mismatches = sum(hf_tok(c)["input_ids"] != tok.encode(c) for c in captions[:5000] + [PROMPT.format(c) for c in CLASSES])
    print(f"CLIPTokenizer vs own encoder: {mismatches} mismatches in {min(5000, len(captions)) + len(CLASSES)} texts", flush=True)
    reloaded = CLIPModel.from_pretrained(args.out, dtype=torch.float32).eval()
    res16 = zero_shot(reloaded, lambda s: hf_tok(s)["input_ids"], hf_tok.pad_token_id, classes, test_images, y, counts)
    print("zero-shot (fp16 weights reloaded in float32, CLIPTokenizer):", fmt(res16), flush=True)

    stats = {"command": " ".join(sys.argv), "args": vars(args), "parameters": n_params,
             "pool_pairs": len(captions), "merges": len(merges), "vocab_size": len(tok.vocab),
             "caption_tokens_mean": float(np.mean(lengths)), "caption_tokens_max": int(max(lengths)),
             "train_wall_s": round(train_s, 1), "total_wall_s": round(time.time() - t_start, 1),
             "steps_done": curve[-1]["step"] if curve else 0, "loss_curve": curve,
             "tokenizer_mismatches": mismatches, "zero_shot_fp32": res32, "zero_shot_fp16_reloaded": res16,
             "versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                          "transformers": transformers.__version__, "numpy": np.__version__}}
    with open(os.path.join(args.out, "training_stats.json"), "w") as f:
        json.dump(stats, f, indent=1)
    print(f"saved to {args.out}; total {time.time() - t_start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
