"""The reference LMPT training step in PyTorch, for `tagtune bench tune` to stand beside.

As the official code does it: every step encodes the batch's images with the frozen image encoder
(under no_grad), runs all C class prompts through the text transformer at the full 77 positions,
and back-propagates the loss to the context vectors only (encoder weights frozen: requires_grad
False). Also measures the same step with prompts cut after EOT and cached image features, which is
what TagTune does, so both effects can be told apart.

    /work/pyenv-dev/bin/python scripts/bench/lmpt_reference_step.py MODEL_DIR [--classes 20,80] [--threads 2]
        [--batch 64] [--n-ctx 16] [--steps 2] [--images 1142]

Prints one JSON object per (classes, variant) with seconds per step, per epoch and peak RSS.
"""
import argparse
import json
import resource
import time

import torch
import torch.nn.functional as F
from transformers import CLIPModel


def text_features(model, x, eot):
    """x: [C, T, W] input embeddings (with positions); returns projected features at EOT."""
    t = x.shape[1]
    mask = torch.full((t, t), float("-inf")).triu(1)[None, None]
    h = x
    for layer in model.text_model.encoder.layers:
        r = h
        h = layer.layer_norm1(h)
        h = attend(layer.self_attn, h, mask)
        h = r + h
        r = h
        h = layer.mlp(layer.layer_norm2(h))
        h = r + h
    h = model.text_model.final_layer_norm(h)
    pooled = h[torch.arange(h.shape[0]), eot]
    return model.text_projection(pooled)


def attend(attn, h, mask):
    b, t, w = h.shape
    heads = attn.num_heads
    q = attn.q_proj(h).view(b, t, heads, -1).transpose(1, 2)
    k = attn.k_proj(h).view(b, t, heads, -1).transpose(1, 2)
    v = attn.v_proj(h).view(b, t, heads, -1).transpose(1, 2)
    o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    return attn.out_proj(o.transpose(1, 2).reshape(b, t, w))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--classes", default="20,80")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--n-ctx", type=int, default=16)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--images", type=int, default=1142)
    ap.add_argument("--variants", default="reference,cut-cached")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = CLIPModel.from_pretrained(args.model).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    size = model.config.vision_config.image_size
    width = model.config.text_config.hidden_size
    emb = model.text_model.embeddings
    for c in [int(x) for x in args.classes.split(",")]:
        for variant in args.variants.split(","):
            name_tokens = 3                      # e.g. "object number N"
            length = 1 + args.n_ctx + name_tokens + 2
            tokens = 77 if variant == "reference" else length
            ids = torch.zeros(c, tokens, dtype=torch.long)
            ids[:, 0] = 49406
            ids[:, 1 + args.n_ctx:1 + args.n_ctx + name_tokens] = torch.randint(1000, 40000, (c, name_tokens))
            ids[:, length - 2] = 269
            ids[:, length - 1] = 49407
            eot = torch.full((c,), length - 1)
            ctx = (0.02 * torch.randn(c, args.n_ctx, width)).requires_grad_(True)
            opt = torch.optim.SGD([ctx], lr=5e-4, momentum=0.9, weight_decay=1e-4)
            pixels = torch.randn(args.batch, 3, size, size)
            cached = F.normalize(torch.randn(args.batch, model.config.projection_dim), dim=-1)
            labels = (torch.rand(args.batch, c) < 0.1).float()

            def step():
                if variant == "reference":
                    with torch.no_grad():
                        out = model.get_image_features(pixel_values=pixels)
                        image = F.normalize(getattr(out, "pooler_output", out), dim=-1)
                else:
                    image = cached
                base = emb.token_embedding(ids)
                x = torch.cat([base[:, :1], ctx, base[:, 1 + args.n_ctx:]], dim=1) + emb.position_embedding.weight[:tokens]
                t = F.normalize(text_features(model, x, eot), dim=-1)
                logits = model.logit_scale.exp() * image @ t.t()
                loss = F.binary_cross_entropy_with_logits(logits, labels)
                opt.zero_grad()
                loss.backward()
                opt.step()

            step()
            start = time.perf_counter()
            for _ in range(args.steps):
                step()
            per = (time.perf_counter() - start) / args.steps
            steps_per_epoch = -(-args.images // args.batch)
            print(json.dumps({"engine": f"pytorch {torch.__version__}", "variant": variant, "classes": c, "tokens": tokens,
                              "threads": args.threads, "seconds_per_step": round(per, 4),
                              "seconds_per_epoch": round(per * steps_per_epoch, 2),
                              "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}), flush=True)


if __name__ == "__main__":
    main()
