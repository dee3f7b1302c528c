"""Random-weight CLIP checkpoints with the real ViT-B/32 and ViT-B/16 shapes, for benchmarks.

Saved with transformers' save_pretrained (Hugging Face layout, float32 safetensors, ~600 MB each)
plus tokenizer and preprocessor files, so `tagtune bench` loads them exactly as it would load
openai/clip-vit-base-patch32 / -patch16. Not committed (too large; the values do not matter).

    /work/pyenv-dev/bin/python scripts/bench/make_random_checkpoints.py [OUT_DIR]   # default .bench/models
"""
import os
import sys

import torch
from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
from clip_vocab import build_vocab, first_merges, write_hf_tokenizer_files  # noqa: E402

SHAPES = {
    "vit-b-32": dict(patch_size=32),
    "vit-b-16": dict(patch_size=16),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(".bench", "models")
    torch.manual_seed(0)
    for name, extra in SHAPES.items():
        folder = os.path.join(out, name)
        if os.path.exists(os.path.join(folder, "model.safetensors")):
            print(f"{folder}: exists")
            continue
        os.makedirs(folder, exist_ok=True)
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
        merges = first_merges(48894)   # the full OpenAI vocabulary: 49,408 ids
        write_hf_tokenizer_files(folder, build_vocab(merges), merges)
        print(f"{folder}: written")


if __name__ == "__main__":
    main()
