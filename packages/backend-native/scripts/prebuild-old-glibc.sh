#!/usr/bin/env bash
# Makes the prebuilt binaries that ship in the npm tarball on an old glibc, so they load on the Linux
# systems people still run (Debian 10/11, Ubuntu 20.04/22.04, RHEL/AlmaLinux 8/9), then proves that they
# load there. A binary needs the glibc of the machine it is linked on; a Debian 12 build needs 2.36.
#
# 1. debootstrap a Debian root (bullseye: glibc 2.31, gcc 10, C++17) with g++, make, python3 and
#    OpenBLAS, from deb.debian.org (buster, glibc 2.28, left it for the archive);
# 2. in that root, with this machine's Node (Node 20's builds need glibc 2.28) and its headers mounted in,
#    run scripts/prebuild.mjs --max-glibc=$MAX_GLIBC: it compiles every x86-64 level, binds the libm
#    functions glibc 2.29 renewed to their old versions (src/native/glibc-compat.h), and fails when a
#    binary still needs a glibc newer than 2.28 (its GLIBC_ symbol versions, as objdump -T lists them);
# 3. in the same root, scripts/load-check.mjs loads each binary this CPU runs, and the package's tfjs
#    backend, and compares kernels against the CPU reference.
# Needs root (debootstrap, installed when missing; mount; chroot) and the network to Debian's mirror. Takes about 5 minutes
# for the root and 2 per level on 2 cores; the root is removed at the end (keep it with KEEP_ROOT=1, reuse
# one with PREBUILD_ROOT=dir).
#
#   bash scripts/prebuild-old-glibc.sh              # what `pnpm --filter @efficientscale/backend-native build:prebuilds` runs
#   PREBUILD_ROOT=/tmp/bullseye KEEP_ROOT=1 bash scripts/prebuild-old-glibc.sh
set -euo pipefail
pkg=$(cd "$(dirname "$0")/.." && pwd)
workspace=$(cd "$pkg/../.." && pwd) # pnpm's node_modules links point into the workspace root: mount all of it
suite=${PREBUILD_SUITE:-bullseye}
mirror=${PREBUILD_MIRROR:-http://deb.debian.org/debian}
max_glibc=$(node --input-type=module -e "import('$pkg/scripts/prebuilt.mjs').then((m) => console.log(m.MAX_GLIBC))")
say() { echo "prebuild-old-glibc: $*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "expected to run as root (debootstrap, mount and chroot need it), found uid $(id -u)"
if ! command -v debootstrap >/dev/null; then
  say "installing debootstrap"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null) ||
    die "expected debootstrap, found none and could not install it (apt-get install debootstrap)"
fi
node_bin=$(command -v node)
node_headers=$(dirname "$(dirname "$(readlink -f "$node_bin")")")/include/node
[ -f "$node_headers/node_api.h" ] || node_headers=/usr/include/node
[ -f "$node_headers/node_api.h" ] || die "expected Node's headers (node_api.h) beside $node_bin or in /usr/include/node, found none"

root=${PREBUILD_ROOT:-}
made_root=0
if [ -z "$root" ]; then
  root=$(mktemp -d /tmp/es-prebuild-root-XXXXXX)
  made_root=1
fi
mounts=()
cleanup() {
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" || true; done
  [ "$made_root" = 1 ] && [ "${KEEP_ROOT:-0}" != 1 ] || return 0
  # The workspace is bind-mounted inside: never delete the root while anything is still mounted there.
  if grep -q " $root/" /proc/mounts; then say "left $root: something is still mounted in it"; else rm -rf "$root"; fi
}
trap cleanup EXIT
bind() { # bind SRC DEST-inside-root [ro]
  local dest="$root$2"
  if [ -d "$1" ]; then mkdir -p "$dest"; else mkdir -p "$(dirname "$dest")" && touch "$dest"; fi
  mount --bind "$1" "$dest"
  mounts+=("$dest")
  if [ "${3:-}" = ro ]; then mount -o remount,bind,ro "$dest"; fi
}

start=$(date +%s)
if [ ! -x "$root/usr/bin/g++" ]; then
  say "debootstrap $suite into $root from $mirror"
  # One retry in a root of our own: a dropped connection to the mirror should not fail a CI run.
  for try in 1 $([ "$made_root" = 1 ] && echo 2); do
    debootstrap --variant=minbase --include=g++,make,python3,libopenblas-dev "$suite" "$root" "$mirror" >"$root.debootstrap.log" 2>&1 && break
    grep -q " $root/" /proc/mounts && die "debootstrap $suite failed and left mounts in $root (log: $root.debootstrap.log)"
    [ "$try" = 1 ] && [ "$made_root" = 1 ] || die "debootstrap $suite failed (log: $root.debootstrap.log): $(tail -3 "$root.debootstrap.log" | tr '\n' ' ')"
    say "debootstrap failed ($(tail -1 "$root.debootstrap.log")); trying once more"
    rm -rf "${root:?}"/* && sleep 10
  done
  rm -f "$root.debootstrap.log"
fi
rooted=$(date +%s)
say "root ready: $(chroot "$root" ldd --version | head -1), $(chroot "$root" g++ --version | head -1) ($((rooted - start)) s)"

mkdir -p "$root/proc" && mount -t proc proc "$root/proc" && mounts+=("$root/proc")
bind /dev /dev
bind "$node_bin" /usr/local/bin/node ro
bind "$node_headers" /usr/local/include/node ro
bind "$workspace" "$workspace"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root TMPDIR=/tmp "$@"; }

in_root node -e "process.report.getReport().header.glibcVersionRuntime" >/dev/null ||
  die "this machine's Node ($node_bin, $(node --version)) does not run on the $suite root"
in_root sh -c "cd '$pkg' && node scripts/prebuild.mjs --max-glibc=$max_glibc $*"
built=$(date +%s)
in_root sh -c "cd '$pkg' && node scripts/load-check.mjs"
say "done: root $((rooted - start)) s, binaries $((built - rooted)) s, load check $(($(date +%s) - built)) s"
