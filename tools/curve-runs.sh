#!/usr/bin/env bash
# Trains the runs the whole-curve laws are measured on: three byte-level Llama sizes (hidden 32, 64, 96;
# 2 layers; 41k, 132k, 271k parameters) × three LR schedules (constant, cosine, WSD; peak 3e-3, 10 warmup
# steps, cosine and WSD down to 0.1× the peak, WSD decaying over the last 20%) on the embedded corpus, each
# logging its held-out loss 80 times. The two larger train longer (1500, 2000, 2000 steps of 1024 tokens).
# Usage: bash tools/curve-runs.sh [OUT_DIR]   (needs `pnpm build`; about 25 minutes on 2 quiet cores)
# Trained runs are kept: running it again trains only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-runs/curves}"
es() { node packages/cli/dist/bin.js "$@"; }
mkdir -p "$out/configs"
for spec in 32:1500 64:2000 96:2000; do
  h=${spec%%:*}
  steps=${spec##*:}
  node -e "
    const { llamaConfig } = require('./packages/core/dist/index.cjs');
    const heads = Math.max(2, $h / 16);
    const config = llamaConfig({ vocab: 256, hidden: $h, ffn: Math.round(($h * 8) / 12) * 4, layers: 2, heads, kvHeads: heads, maxPositions: 256 });
    require('fs').writeFileSync('$out/configs/h$h.json', JSON.stringify(config, null, 2));
  "
  for schedule in constant cosine wsd; do
    name="h$h-$schedule"
    if [ -f "$out/$name/checkpoint/trainer_state.json" ] && [ -f "$out/$name.json" ]; then echo "skip $name (trained)"; continue; fi
    rm -rf "$out/$name"
    es train --config "$out/configs/h$h.json" --steps "$steps" --batch 16 --seq 64 --lr 3e-3 --schedule "$schedule" \
      --eval-every $((steps / 80)) --eval-batches 8 --out "$out/$name" --json > "$out/$name.json.tmp"
    mv "$out/$name.json.tmp" "$out/$name.json"
    echo "trained $name: $(cat "$out/$name.json")"
  done
done
