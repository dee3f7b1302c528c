"""Random-weight CLIP checkpoints with real shapes, for benchmarks. Not committed (too large; the
values do not matter, only the shapes).

    vit-b-32, vit-b-16   transformers' CLIPModel with the real ViT-B/32 and ViT-B/16 shapes, saved with
                         save_pretrained (Hugging Face layout, float32 safetensors, ~600 MB each) plus
                         tokenizer and preprocessor files, so `tagtune bench` loads them exactly as it
                         would load openai/clip-vit-base-patch32 / -patch16.
    rn50                 open_clip's own RN50 (ModifiedResNet vision tower), open_clip layout:
                         open_clip_config.json (model_cfg = open_clip's "RN50" config, OpenAI preprocess_cfg),
                         open_clip_model.safetensors (float32, ~400 MB) and vocab.json + merges.txt (HF form);
                         loads with open_clip.create_model("local-dir:<folder>").

    /work/pyenv-dev/bin/python scripts/bench/make_random_checkpoints.py [OUT_DIR] [--only rn50,vit-b-32]
        # OUT_DIR defaults to .bench/models; a folder that already holds its weights is left alone

The ViT folders are made in one seeded sequence (seed 0, then vit-b-32, then vit-b-16, as before);
rn50 reseeds to 0, so it comes out the same whether or not the others are made in the same run.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
from clip_vocab import build_vocab, first_merges, write_hf_tokenizer_files  # noqa: E402

SHAPES = {
    "vit-b-32": dict(patch_size=32),
    "vit-b-16": dict(patch_size=16),
}
OPEN_CLIP = {
    "rn50": "RN50",
}
NAMES = list(SHAPES) + list(OPEN_CLIP)
OPENAI_MEAN = [0.48145466, 0.4578275, 0.40821073]
OPENAI_STD = [0.26862954, 0.26130258, 0.27577711]


def full_tokenizer(folder, hf_extras=True):
    merges = first_merges(48894)   # the full OpenAI vocabulary: 49,408 ids
    write_hf_tokenizer_files(folder, build_vocab(merges), merges)
    if not hf_extras:   # the open_clip layout carries vocab.json + merges.txt only (as the open_clip fixtures do)
        for extra in ("tokenizer_config.json", "special_tokens_map.json"):
            os.remove(os.path.join(folder, extra))


def make_vit(folder, extra):
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    config = CLIPConfig(
        text_config=dict(vocab_size=49408, hidden_size=512, intermediate_size=2048, num_hidden_layers=12,
                         num_attention_heads=8, max_position_embeddings=77, hidden_act="quick_gelu",
                         bos_token_id=49406, eos_token_id=49407, pad_token_id=49407),
        vision_config=dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                           image_size=224, hidden_act="quick_gelu", **extra),
        projection_dim=512)
    model = CLIPModel(config).eval()
    model.save_pretrained(folder, safe_serialization=True)
    CLIPImageProcessor(size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224}).save_pretrained(folder)
    full_tokenizer(folder)


def make_open_clip(folder, name):
    """open_clip's built-in config `name` with random weights (seed 0), eval mode, float32."""
    import open_clip
    from safetensors.torch import save_file

    torch.manual_seed(0)
    model_cfg = open_clip.get_model_config(name)
    model = open_clip.create_model(name, device="cpu", precision="fp32").eval()
    # Batch norms: open_clip's init leaves them the identity (mean 0, var 1, weight 1, bias 0) and zeroes
    # each residual block's last one (bn3.weight), which would make every block's main branch invisible
    # in the output. Small non-trivial values instead, so a port that folds or applies them wrongly shows;
    # activations keep the size they have with the identity (std about 0.02 after every stage).
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                n = module.num_features
                module.running_mean.copy_(0.01 * torch.randn(n))
                module.running_var.copy_(torch.empty(n).uniform_(0.9, 1.1))
                module.weight.copy_(torch.empty(n).uniform_(0.9, 1.1))
                module.bias.copy_(0.01 * torch.randn(n))
    # Float32 tensors only: the BatchNorm counters (num_batches_tracked, int64, unused in eval) are left
    # out; open_clip's strict load fills them in.
    state = {k: v.detach().to(torch.float32).contiguous() for k, v in sorted(model.state_dict().items())
             if not k.endswith("num_batches_tracked")}
    size = model_cfg["vision_cfg"]["image_size"]
    preprocess_cfg = {"mean": OPENAI_MEAN, "std": OPENAI_STD, "interpolation": "bicubic",
                      "resize_mode": "shortest", "size": size}
    with open(os.path.join(folder, "open_clip_config.json"), "w", encoding="utf-8") as f:
        json.dump({"model_cfg": model_cfg, "preprocess_cfg": preprocess_cfg}, f, indent=2)
        f.write("\n")
    save_file(state, os.path.join(folder, "open_clip_model.safetensors"), metadata={"format": "pt"})
    full_tokenizer(folder, hf_extras=False)

    # The folder must load in open_clip as written, to the same outputs.
    loaded = open_clip.create_model("local-dir:" + folder, device="cpu", precision="fp32").eval()
    pixels = torch.randn(2, 3, size, size)
    with torch.inference_mode():
        assert torch.equal(model.encode_image(pixels), loaded.encode_image(pixels)), "reloaded folder differs"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", nargs="?", default=os.path.join(".bench", "models"))
    ap.add_argument("--only", default=",".join(NAMES), help="comma-separated, of: " + ", ".join(NAMES))
    args = ap.parse_args()
    wanted = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = sorted(set(wanted) - set(NAMES))
    if unknown:
        ap.error(f"unknown checkpoint(s) {', '.join(unknown)}; choose from {', '.join(NAMES)}")

    torch.manual_seed(0)
    for name in NAMES:
        if name not in wanted:
            continue
        folder = os.path.join(args.out, name)
        weights = "model.safetensors" if name in SHAPES else "open_clip_model.safetensors"
        if os.path.exists(os.path.join(folder, weights)):
            print(f"{folder}: exists")
            continue
        os.makedirs(folder, exist_ok=True)
        if name in SHAPES:
            make_vit(folder, SHAPES[name])
        else:
            make_open_clip(folder, OPEN_CLIP[name])
        print(f"{folder}: written")


if __name__ == "__main__":
    main()
