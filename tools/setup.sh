#!/usr/bin/env bash
# Installs what the workspace needs on a fresh machine: system BLAS for the native backend, pnpm, packages.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! dpkg -s libopenblas-dev >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev >/dev/null) \
    || echo "setup: could not install libopenblas-dev; the native backend will be skipped" >&2
fi
command -v pnpm >/dev/null || npm i -g pnpm@10.34.9 >/dev/null
pnpm install --frozen-lockfile=false
pnpm build
