#!/usr/bin/env bash
# A Debian trixie root with the CUDA 12.4 toolkit (trixie's non-free `nvidia-cuda-toolkit`), made
# with mmdebstrap and cached outside git, to build (and test) the cuda12 variant on a machine that
# has no CUDA 12 toolkit. PyPI has no CUDA 12 nvcc, and trixie's packages must not be mixed into a
# bookworm host, hence a separate root. Needs root (mount, chroot) and mmdebstrap.
#
#   bash scripts/cuda12-root.sh path             make the root if needed; print its path
#   bash scripts/cuda12-root.sh run CMD [ARG...] run CMD inside it, in this repository
#
# `run` enters a private mount namespace: /proc, /sys, /dev, a fresh /tmp, then this repository
# bind-mounted at the same path (in that order: a repository under /tmp stays visible), and the
# host's node binary copied in. The mounts die with the namespace, so nothing is left mounted.
#   TINGWU_CUDA12_ROOT   where the root lives (default ~/.cache/tingwu-whisper/cuda12-root)
#   TINGWU_DEBIAN_MIRROR Debian mirror (default http://deb.debian.org/debian)
set -euo pipefail

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
CHROOT="${TINGWU_CUDA12_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/tingwu-whisper/cuda12-root}"
MIRROR="${TINGWU_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=trixie
# nvcc 12.4 accepts g++ up to 13; trixie's default g++ is 14, so g++-13 is the host compiler.
# libcuda1 (the driver library) comes in as a dependency of nvidia-cuda-dev and is removed again:
# the root stands for a machine without a driver, and a build must never link it.
PACKAGES=(nvidia-cuda-toolkit nvidia-cuda-dev libcublas12 libcublaslt12 libcudart12 gcc-13 g++-13
  cmake ninja-build make binutils file ca-certificates)
STAMP="$CHROOT/.tingwu-cuda12-root"
WANT="$SUITE ${PACKAGES[*]}"

note() { echo "cuda12-root: $*" >&2; }
die() { note "$*"; exit 1; }

# Removes a half-made root: first whatever an interrupted mmdebstrap left mounted inside it (never
# rm through a mounted /dev or /proc), then the files, without crossing into other file systems.
remove_root() {
  local dir="$1" target
  [ -e "$dir" ] || return 0
  while read -r target; do
    umount -l "$target" 2>/dev/null || true
  done < <(findmnt -rn -o TARGET 2>/dev/null | grep -F "$dir/" | sort -r)
  rm -rf --one-file-system "$dir" || true
}

ensure_root() {
  if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then return 0; fi
  [ "$(id -u)" -eq 0 ] || die "making the trixie root needs root (mmdebstrap, chroot); run as root or with sudo"
  command -v mmdebstrap >/dev/null 2>&1 || die "mmdebstrap is not installed: apt-get install mmdebstrap"
  note "making a Debian $SUITE root with the CUDA 12.4 toolkit in $CHROOT (about 5 GB; once)"
  local tmp="$CHROOT.new"
  remove_root "$tmp"
  mkdir -p "$(dirname "$CHROOT")"
  local started=$SECONDS
  mmdebstrap --mode=root --variant=minbase --components=main,contrib,non-free \
    --aptopt='APT::Install-Recommends "false"' \
    --include="$(IFS=,; echo "${PACKAGES[*]}")" \
    --customize-hook='chroot "$1" dpkg --purge --force-depends libcuda1 >/dev/null && chroot "$1" ldconfig' \
    --customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*' \
    "$SUITE" "$tmp" "$MIRROR" >&2 || { remove_root "$tmp"; die "mmdebstrap failed (is $MIRROR reachable?)"; }
  remove_root "$CHROOT"
  mv "$tmp" "$CHROOT"
  echo "$WANT" >"$STAMP"
  note "root ready in $((SECONDS - started)) s ($(du -sh "$CHROOT" | cut -f1))"
}

case "${1:-}" in
  path)
    ensure_root
    echo "$CHROOT"
    ;;
  run)
    shift
    [ $# -gt 0 ] || die "usage: cuda12-root.sh run CMD [ARG...]"
    ensure_root
    node_bin="$(readlink -f "$(command -v node)")" || die "node is not on PATH"
    cmp -s "$node_bin" "$CHROOT/usr/local/bin/node" || install -m 0755 "$node_bin" "$CHROOT/usr/local/bin/node"
    # minbase has no /etc/hosts; vitest and the HTTP tests resolve localhost.
    [ -s "$CHROOT/etc/hosts" ] || printf '127.0.0.1 localhost\n::1 localhost ip6-localhost\n' >"$CHROOT/etc/hosts"
    workdir="$(pwd -P)"
    case "$workdir/" in "$ROOT_DIR"/*) ;; *) workdir="$ROOT_DIR" ;; esac
    # Only the build's settings cross into the root; nothing else of the host's environment.
    pass=()
    for name in $(compgen -e); do
      case "$name" in
        TINGWU_* | CUDA_ARCHITECTURES | CI | NODE_OPTIONS | VITEST* | LD_LIBRARY_PATH) pass+=("$name=${!name}") ;;
      esac
    done
    exec unshare --mount --propagation private -- bash -euo pipefail -c '
      root="$1" repo="$2"; shift 2
      mount -t proc proc "$root/proc"
      mount -t sysfs sysfs "$root/sys"
      mount --bind /dev "$root/dev"
      mount -t tmpfs tmpfs "$root/tmp"          # before the repository: it may live under /tmp
      mkdir -p "$root$repo"
      mount --bind "$repo" "$root$repo"
      exec chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TMPDIR=/tmp \
        PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin "${@}"
    ' cuda12-root "$CHROOT" "$ROOT_DIR" /usr/bin/env -C "$workdir" "${pass[@]}" "$@"
    ;;
  *)
    die "usage: cuda12-root.sh path | run CMD [ARG...]"
    ;;
esac
