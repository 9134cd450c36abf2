#!/usr/bin/env bash
# Finds a CUDA toolkit to build the `cuda` variant with, or assembles one from NVIDIA's PyPI wheels.
# Prints the toolkit root (the CUDA_HOME to use) on stdout, and nothing else; notes go to stderr.
#
#   export CUDA_HOME="$(bash scripts/cuda-toolkit.sh)"
#
# Order: $CUDA_HOME (or $CUDA_PATH), /usr/local/cuda, /usr/local/cuda-<major>*, Debian's and
# Ubuntu's packaged toolkit (/usr/lib/nvidia-cuda-toolkit), the nvcc on PATH. A toolkit only counts
# when it has nvcc and cuBLAS (headers and library): some distributions ship nvcc alone.
# Otherwise the pinned CUDA 13 wheels below are unpacked into .cuda-toolkit/cu13 (gitignored; set
# TINGWU_CUDA_TOOLKIT_DIR to put it elsewhere). PyPI has no CUDA 12 nvcc (the -cu12 "nvcc" wheel
# ships ptxas only): for CUDA 12 this script only searches, and scripts/build-cuda.sh falls back
# to the CUDA 12.4 toolkit of a Debian trixie root (scripts/cuda12-root.sh).
#
# Options: --wheels     skip the search and use (or assemble) the wheel toolkit (CUDA 13).
#          --major N    only a toolkit whose nvcc is CUDA N (12: search only; exit 1 when none).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# One consistent set: the requirements of PyPI's cuda-toolkit==13.5.0 meta-package.
WHEELS=(
  nvidia-cuda-nvcc==13.5.37     # nvcc, ptxas, nvlink, fatbinary, cudafe++
  nvidia-nvvm==13.5.37          # cicc and libdevice (nvcc's device front end)
  nvidia-cuda-crt==13.5.37      # crt/ headers nvcc includes
  nvidia-cuda-runtime==13.5.37  # cudart and its headers
  nvidia-cuda-cccl==13.3.5.0.6  # CUB / Thrust / libcu++ (include/cccl)
  nvidia-cublas==13.10.0.20     # cuBLAS and cuBLASLt
)

note() { echo "cuda-toolkit: $*" >&2; }

MAJOR=""
WHEELS_ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --wheels) WHEELS_ONLY=1 ;;
    --major) MAJOR="${2:?--major needs a number}"; shift ;;
    --major=*) MAJOR="${1#--major=}" ;;
    *) echo "cuda-toolkit: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

# A header of the toolkit: in its include/ (NVIDIA's layout), or in /usr/include (Debian's
# nvidia-cuda-toolkit keeps only bin/ and nvvm/ in /usr/lib/nvidia-cuda-toolkit).
has_header() {
  local home="$1" name="$2"
  [ -f "$home/include/$name" ] || [ -f "$home/targets/x86_64-linux/include/$name" ] ||
    { [ "$home" = /usr/lib/nvidia-cuda-toolkit ] && [ -f "/usr/include/$name" ]; }
}

# A usable toolkit root: nvcc that runs (of CUDA $MAJOR when given), the runtime and cuBLAS
# headers, and the cuBLAS library.
usable() {
  local home="$1" libdir release
  [ -n "$home" ] && [ -x "$home/bin/nvcc" ] || return 1
  has_header "$home" cuda_runtime.h && has_header "$home" cublas_v2.h || return 1
  for libdir in lib64 lib targets/x86_64-linux/lib /usr/lib/x86_64-linux-gnu; do
    case "$libdir" in /*) ;; *) libdir="$home/$libdir" ;; esac
    if compgen -G "$libdir/libcublas.so*" >/dev/null; then
      release="$("$home/bin/nvcc" --version 2>/dev/null | grep -o 'release [0-9]*' | cut -d' ' -f2)" || return 1
      [ -n "$release" ] || return 1
      if [ -n "$MAJOR" ] && [ "$release" != "$MAJOR" ]; then
        note "skipping $home: CUDA $release, not $MAJOR"
        return 1
      fi
      return 0
    fi
  done
  return 1
}

found() {
  note "using $1 ($("$1/bin/nvcc" --version | grep -o 'release [0-9.]*' || true))"
  echo "$1"
  exit 0
}

if [ -z "$WHEELS_ONLY" ]; then
  for candidate in "${CUDA_HOME:-}" "${CUDA_PATH:-}" /usr/local/cuda ${MAJOR:+/usr/local/cuda-$MAJOR*} /usr/lib/nvidia-cuda-toolkit; do
    if [ -n "$candidate" ] && [ -e "$candidate" ]; then
      if usable "$candidate"; then found "$(cd "$candidate" && pwd -P)"; fi
      note "skipping $candidate: no nvcc with cuBLAS there"
    fi
  done
  if command -v nvcc >/dev/null 2>&1; then
    candidate="$(cd "$(dirname "$(readlink -f "$(command -v nvcc)")")/.." && pwd)"
    if usable "$candidate"; then found "$candidate"; fi
    note "skipping the nvcc on PATH ($candidate): no cuBLAS beside it"
  fi
fi

# --- assemble from the wheels ----------------------------------------------------------------
if [ -n "$MAJOR" ] && [ "$MAJOR" != 13 ]; then
  note "no CUDA $MAJOR toolkit with nvcc and cuBLAS found (PyPI has wheels for a CUDA 13 toolkit only)"
  exit 1
fi
DEST="${TINGWU_CUDA_TOOLKIT_DIR:-$ROOT/.cuda-toolkit/cu13}"
STAMP="$DEST/.tingwu-wheels"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "${WHEELS[*]}" ] && usable "$DEST"; then
  found "$DEST"
fi

PYTHON="${PYTHON:-$(command -v python3 || command -v python || true)}"
[ -n "$PYTHON" ] || { note "no CUDA toolkit found and no python3 to fetch the wheels with"; exit 1; }
note "no installed CUDA toolkit with nvcc and cuBLAS; assembling CUDA 13 from PyPI wheels into $DEST"
work="$(mktemp -d "${TMPDIR:-/tmp}/tingwu-cuda-wheels.XXXXXX")"
trap 'rm -rf "$work"' EXIT
"$PYTHON" -m pip download --no-deps --disable-pip-version-check --quiet \
  --only-binary=:all: -d "$work" "${WHEELS[@]}" >&2

rm -rf "$DEST"
mkdir -p "$DEST"
# Every wheel puts its files under nvidia/cu13/{bin,include,lib,nvvm}: the layout of a toolkit
# root. zipfile drops Unix modes, so restore them (nvcc, cicc, ptxas... must stay executable).
"$PYTHON" - "$work" "$DEST" <<'PY'
import os, sys, zipfile, glob
work, dest = sys.argv[1], sys.argv[2]
prefix = "nvidia/cu13/"
for wheel in sorted(glob.glob(os.path.join(work, "*.whl"))):
    with zipfile.ZipFile(wheel) as z:
        for info in z.infolist():
            if not info.filename.startswith(prefix) or info.is_dir():
                continue
            target = os.path.join(dest, info.filename[len(prefix):])
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with z.open(info) as src, open(target, "wb") as out:
                while chunk := src.read(1 << 20):
                    out.write(chunk)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(target, mode)
PY

# What CMake's FindCUDAToolkit and the linker look for: lib64/, and unversioned .so names.
ln -sfn lib "$DEST/lib64"
(
  cd "$DEST/lib"
  for versioned in libcudart.so.* libcublas.so.* libcublasLt.so.* libnvblas.so.*; do
    [ -e "$versioned" ] || continue
    ln -sfn "$versioned" "${versioned%%.so.*}.so"
  done
)
chmod +x "$DEST"/bin/* "$DEST"/nvvm/bin/* 2>/dev/null || true
usable "$DEST" || { note "the assembled toolkit in $DEST is incomplete"; exit 1; }
echo "${WHEELS[*]}" >"$STAMP"
note "assembled $(du -sh "$DEST" | cut -f1) in $DEST"
found "$DEST"
