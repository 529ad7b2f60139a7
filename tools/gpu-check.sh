#!/usr/bin/env bash
# On a GPU machine with Python + torch and no Node or network: the webgpu backend's checks and the
# benchmark shapes on the GPU, beside PyTorch on CUDA, in one go (under 8 minutes on an H100).
#   here:          pnpm build && node tools/gpu-check/pack.mjs      (writes gpu-check/pack, gitignored)
#   GPU machine:   bash tools/gpu-check.sh                          (with gpu-check/pack beside it)
# Writes gpu-check/out/report.md (and JSON lines) under $OUT when set, else gpu-check/out.
# GPU_CHECK_DRY=1 stops after unpacking and starting Node and Dawn (what can be checked without a GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
pack=gpu-check/pack
out=${OUT:-gpu-check/out}
work=$(mktemp -d)
mkdir -p "$out"
log() { echo "gpu-check: $*" | tee -a "$out/report.md" >&2; }
[ -d "$pack" ] || { echo "gpu-check: expected $pack (made by node tools/gpu-check/pack.mjs), found nothing" >&2; exit 1; }

# Node, Dawn and the Vulkan loader, unpacked into a scratch folder
xz -dc "$pack/node.xz" > "$work/node" && chmod +x "$work/node"
cp -r "$pack/app" "$work/app" && cp "$pack/package.json" "$work/package.json"
xz -d "$work/app/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
for deb in "$pack"/debs/*.deb; do dpkg -x "$deb" "$work/root"; done
export LD_LIBRARY_PATH="$work/root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# NVIDIA's Vulkan driver file: the installed one, else one written for the driver's library
if ! ls /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json >/dev/null 2>&1; then
  lib=$(ldconfig -p 2>/dev/null | awk '/libGLX_nvidia.so.0/ {print $NF; exit}')
  if [ -n "$lib" ]; then
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$lib" > "$work/nvidia_icd.json"
    export VK_ICD_FILENAMES="$work/nvidia_icd.json"
  fi
fi
node=("$work/node")
cli=("${node[@]}" "$work/app/efficientscale.mjs")
log "$("$work/node" --version), $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || echo 'no nvidia-smi')"
# Dawn must find an adapter; the backend names it
"${cli[@]}" bench --layers 1 --hidden 64 --heads 2 --ffn 128 --vocab 64 --seq 16 --batch 1 --steps 1 --warmup 0 --backend webgpu --json > "$work/probe.json" 2> "$work/probe.err" \
  || { log "webgpu did not start: $(tail -1 "$work/probe.err")"; exit 1; }
log "adapter: $(grep -o '"device":"[^"]*"' "$work/probe.json")"
[ "${GPU_CHECK_DRY:-0}" = 1 ] && { log "dry run: unpacked, Node and Dawn started"; exit 0; }

# Kernels in a training step: 20 steps of the tiny preset on webgpu against cpu (losses within 1e-3)
for b in webgpu cpu; do "${cli[@]}" train --preset tiny --steps 20 --backend "$b" --out "$work/run-$b" --json > "$work/train-$b.json"; done
"${node[@]}" -e '
  const fs = require("fs"); const read = (b) => fs.readFileSync(`${process.argv[1]}/run-${b}/metrics.jsonl`, "utf8").trim().split("\n").map((l) => JSON.parse(l).loss);
  const [g, c] = [read("webgpu"), read("cpu")]; const worst = Math.max(...g.map((l, i) => Math.abs(l - c[i]) / Math.abs(c[i])));
  console.log(`tiny preset, 20 steps: worst relative loss gap webgpu vs cpu ${worst.toExponential(2)} (${worst < 1e-3 ? "ok" : "FAIL"})`); process.exit(worst < 1e-3 ? 0 : 1);' "$work" | tee -a "$out/report.md"

# The three benchmark shapes on webgpu and PyTorch (CUDA), alternating, 2 rounds
for shape in "4 256 4 688 512 128 16" "8 512 8 1376 512 256 16" "12 768 12 2048 32000 1024 8"; do
  read -r L H N F V S B <<< "$shape"
  args=(--layers "$L" --hidden "$H" --heads "$N" --ffn "$F" --vocab "$V" --seq "$S" --batch "$B" --steps 5 --warmup 2)
  for round in 1 2; do
    python3 "$pack/torch_llama_bench.py" "${args[@]}" --device cuda | tail -1 | sed "s/^/pytorch round $round: /" | tee -a "$out/report.md"
    "${cli[@]}" bench "${args[@]}" --backend webgpu --json | tail -1 | sed "s/^/webgpu round $round: /" | tee -a "$out/report.md"
  done
done
log "done"
