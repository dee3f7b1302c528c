#!/usr/bin/env bash
# The LMPT paper's Table 1 on Shapes-LT, with the Swift engine and the demo model (`make paper-table`):
#
#   scripts/reproduce/shapes_lt_table.sh [select|table|all] [OUT_DIR]
#
# select: for each method, a small grid (learning rate × context initialisation) tuned with seed 0 on
#         train and scored on the validation split only; writes OUT_DIR/selected.json.
# table:  zero-shot CLIP, then each method with its selected settings over seeds 0, 1, 2, evaluated
#         on the test split; prints total / head / medium / tail mAP as mean ± std (Markdown) and
#         writes OUT_DIR/table.md and the JSON reports.
# Methods: CoOp (one shared context, BCE), CoOp + DBL, LMPT without the embedding loss (class-specific
# contexts, DBL, λ = 1) and LMPT (class-specific contexts, DBL + class-specific embedding loss, λ = 0.5).
set -euo pipefail
mode=${1:-all}; out=${2:-runs/shapes-lt}
here=$(cd "$(dirname "$0")/../.." && pwd)
tagtune=${TAGTUNE:-$here/.build/release/tagtune}
model=${MODEL:-$here/demo/model}
data=${DATA:-$here/demo/shapes-lt}
cache=$out/features
seeds=${SEEDS:-"0 1 2"}
mkdir -p "$out"
[ -f "$data/test/manifest.jsonl" ] || python3 "$here/scripts/demo/make_shapes_lt.py" --out "$data"

declare -A method_args=(
  [coop_bce]="--method coop --loss bce"
  [coop_dbl]="--method coop --loss dbl"
  [lmpt_no_cse]="--method lmpt --loss dbl --lambda 1"
  [lmpt]="--method lmpt --loss dbl --lambda 0.5"
)
methods="coop_bce coop_dbl lmpt_no_cse lmpt"
# The grid: learning rate × context initialisation (random M = 16, or the words "a photo of a").
lrs="5e-4 2e-3 8e-3"
inits="random words"

tune() {  # name method-args lr init seed → out/name/{prompts,train.json}
  local name=$1 args=$2 lr=$3 init=$4 seed=$5
  local init_args=(--n-ctx 16)
  [ "$init" = words ] && init_args=(--ctx-init "a photo of a")
  # shellcheck disable=SC2086
  "$tagtune" tune --model "$model" --dataset "$data/train" --val-dataset "$data/val" --out "$out/$name/prompts" \
    $args --lr "$lr" "${init_args[@]}" --epochs 50 --batch-size 64 --seed "$seed" --cache "$cache" \
    --replace --json > "$out/$name/train.json.tmp" 2> "$out/$name/train.log"
  mv "$out/$name/train.json.tmp" "$out/$name/train.json"
}

if [ "$mode" = select ] || [ "$mode" = all ]; then
  for m in $methods; do
    for lr in $lrs; do
      for init in $inits; do
        name=select/$m/lr$lr-$init
        mkdir -p "$out/$name"
        [ -f "$out/$name/train.json" ] || tune "$name" "${method_args[$m]}" "$lr" "$init" 0
        echo "$m lr $lr $init: validation mAP $(python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['metrics']['map'], 2))" "$out/$name/train.json")"
      done
    done
  done
  python3 - "$out" $methods <<'PY'
import json, sys, glob, os
out, methods = sys.argv[1], sys.argv[2:]
chosen = {}
for m in methods:
    runs = []
    for f in sorted(glob.glob(f"{out}/select/{m}/*/train.json")):
        lr, init = os.path.basename(os.path.dirname(f))[2:].rsplit("-", 1)
        runs.append((json.load(open(f))["metrics"]["map"], lr, init))
    best = max(runs)
    chosen[m] = {"lr": best[1], "init": best[2], "validation_map": round(best[0], 2)}
    print(f"selected for {m}: lr {best[1]}, {best[2]} context (validation mAP {best[0]:.2f})")
json.dump(chosen, open(f"{out}/selected.json", "w"), indent=1)
PY
fi

if [ "$mode" = table ] || [ "$mode" = all ]; then
  "$tagtune" eval --model "$model" --zero-shot --dataset "$data/test" --train-dataset "$data/train" \
    --cache "$cache" --json > "$out/zero_shot.json"
  for m in $methods; do
    read -r lr init < <(python3 -c "import json,sys; c=json.load(open(sys.argv[1]))[sys.argv[2]]; print(c['lr'], c['init'])" "$out/selected.json" "$m")
    for seed in $seeds; do
      name=table/$m/seed$seed
      mkdir -p "$out/$name"
      [ -f "$out/$name/test.json" ] && continue   # finished earlier (delete OUT_DIR/table to redo)
      tune "$name" "${method_args[$m]}" "$lr" "$init" "$seed"
      "$tagtune" eval --model "$model" --prompts "$out/$name/prompts" --dataset "$data/test" --cache "$cache" --json > "$out/$name/test.json.tmp"
      mv "$out/$name/test.json.tmp" "$out/$name/test.json"
    done
  done
  python3 - "$out" $methods <<'PY' | tee "$out/table.md"
import json, sys, statistics as st
out, methods = sys.argv[1], sys.argv[2:]
names = {"zero_shot": "Zero-shot CLIP", "coop_bce": "CoOp (BCE)", "coop_dbl": "CoOp + DBL",
         "lmpt_no_cse": "LMPT w/o CSE (DBL)", "lmpt": "LMPT (DBL + CSE)"}
keys = [("map", "total"), ("head_map", "head"), ("medium_map", "medium"), ("tail_map", "tail")]
print("| method | " + " | ".join(k[1] for k in keys) + " |")
print("|---|" + "---:|" * len(keys))
zs = json.load(open(f"{out}/zero_shot.json"))
print(f"| {names['zero_shot']} | " + " | ".join(f"{zs[k]:.1f}" for k, _ in keys) + " |")
selected = json.load(open(f"{out}/selected.json"))
for m in methods:
    import glob
    reports = [json.load(open(f)) for f in sorted(glob.glob(f"{out}/table/{m}/seed*/test.json"))]
    cells = []
    for k, _ in keys:
        values = [r[k] for r in reports]
        cells.append(f"{st.mean(values):.1f} ± {st.stdev(values) if len(values) > 1 else 0:.1f}")
    print(f"| {names[m]} | " + " | ".join(cells) + f" |")
print()
print("Settings chosen on validation: " + "; ".join(f"{names[m]}: lr {c['lr']}, {c['init']} context" for m, c in selected.items()) + f". Seeds: {len(reports)}.")
PY
fi
