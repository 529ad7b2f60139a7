#!/usr/bin/env bash
# Installs what the workspace needs on a fresh machine: the system BLAS and a C++ toolchain for the native
# backend, Chromium (for its SwiftShader, the CPU Vulkan driver that WebGPU runs on without a GPU) and the
# Vulkan loader (Debian/Ubuntu, as root or with password-less sudo), pnpm, the packages, and a build of each.
# Without the system packages everything still installs; the native and webgpu backends then say why not.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
dpkg -s libopenblas-dev >/dev/null 2>&1 || missing+=(libopenblas-dev)
command -v g++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)
command -v python3 >/dev/null || missing+=(python3)
[ -e /usr/lib/chromium/vk_swiftshader_icd.json ] || missing+=(chromium)
dpkg -s libvulkan1 >/dev/null 2>&1 || missing+=(libvulkan1)
if [ ${#missing[@]} -gt 0 ] && command -v apt-get >/dev/null; then
  if [ "$(id -u)" = 0 ]; then as_root=(); elif sudo -n true 2>/dev/null; then as_root=(sudo -n); else as_root=(none); fi
  if [ "${as_root[*]}" = none ]; then
    echo "setup: not root and no password-less sudo; install ${missing[*]} yourself for the native and webgpu backends" >&2
  else
    ("${as_root[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null) \
      || echo "setup: could not install ${missing[*]}; the native or webgpu backend will be skipped" >&2
  fi
fi
command -v pnpm >/dev/null || npm i -g pnpm@10.34.9 >/dev/null
pnpm install --frozen-lockfile=false
pnpm build
