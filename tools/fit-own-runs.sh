#!/usr/bin/env bash
# Trains five byte-level Llama models (hidden 24–96, 2 layers) on the embedded corpus at 10 tokens per
# parameter at a constant learning rate (so every checkpoint of a curve is a valid (N, D) point), then fits a Chinchilla law to their run directories and evaluates the fit on the largest.
# Usage: bash tools/fit-own-runs.sh [OUT_DIR]   (needs `pnpm build`; about 3 minutes on 2 quiet cores)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-runs/own-fit}"
es() { node packages/cli/dist/bin.js "$@"; }
mkdir -p "$out/configs"
for h in 24 32 48 64 96; do
  node -e "
    const { llamaConfig, countParams } = require('./packages/core/dist/index.cjs');
    const heads = Math.max(2, $h / 8);
    const config = llamaConfig({ vocab: 256, hidden: $h, ffn: Math.round(($h * 8) / 12) * 4, layers: 2, heads, kvHeads: heads, maxPositions: 256 });
    require('fs').writeFileSync('$out/configs/h$h.json', JSON.stringify(config, null, 2));
    console.log(countParams(config));
  " > "$out/configs/h$h.params"
  params=$(cat "$out/configs/h$h.params")
  name="h$h-$params"
  if [ -f "$out/$name/checkpoint/trainer_state.json" ]; then echo "skip $name (trained)"; continue; fi
  rm -rf "$out/$name"
  es train --config "$out/configs/h$h.json" --tokens $((params * 10)) --lr 3e-3 --schedule constant --out "$out/$name" --json > "$out/$name.json"
  echo "trained $name: $(cat "$out/$name.json")"
done
es fit "$out"/h*/ --loss-column eval_loss --early-fraction 0.1 --out "$out/law.json" --plot "$out/fit.svg" --bootstrap 100
es evaluate "$out"/h*/ --loss-column eval_loss
