#!/usr/bin/env bash
# `npm run build:cuda`: builds the cuda variant (build/cuda<major>/tingwu_whisper_cuda<major>.node)
# with the toolkit scripts/cuda-toolkit.sh finds or assembles. The Dockerfile and CI run this too.
#   --cuda-major 12              CUDA 12 (else: the toolkit found, or CUDA 13 from PyPI's wheels).
#                                With no CUDA 12 toolkit installed, the build runs in a Debian
#                                trixie root with its CUDA 12.4 packages (scripts/cuda12-root.sh;
#                                needs root and mmdebstrap, made once and cached).
#   CUDA_ARCHITECTURES="75;86"   arch list (default: the release list for the toolkit's major)
#   TINGWU_CUDA_FA=OFF           leave out the flash-attention kernels (faster build; CI)
#   TINGWU_BUILD_JOBS=N          parallel compile jobs (default: the number of cores)
# Extra arguments go to scripts/build-native.mjs (e.g. --jobs 2).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

major="${TINGWU_CUDA_MAJOR:-}"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --cuda-major) major="${args[i + 1]:-}" ;;
    --cuda-major=*) major="${args[i]#--cuda-major=}" ;;
  esac
done
if [ -n "$major" ] && ! [[ "$major" =~ ^[0-9]+$ ]]; then
  echo "build-cuda: expected a number for --cuda-major but received \"$major\"" >&2
  exit 2
fi

if CUDA_HOME="$(bash "$ROOT/scripts/cuda-toolkit.sh" ${major:+--major "$major"})"; then
  export CUDA_HOME
  export PATH="$CUDA_HOME/bin:$PATH"
  # Debian's toolkit (also inside the trixie root): its nvcc picks a host compiler it supports by
  # itself (bin/g++ tries g++-13, then older); the host C++ uses g++-13 too where there is one,
  # rather than trixie's default 14, which would raise the libstdc++ the binary needs.
  if [ "$CUDA_HOME" = /usr/lib/nvidia-cuda-toolkit ] && command -v g++-13 >/dev/null 2>&1; then
    export CC="${CC:-gcc-13}" CXX="${CXX:-g++-13}"
  fi
  exec node "$ROOT/scripts/build-native.mjs" --variant cuda "$@"
fi

if [ "$major" = 12 ] && [ -z "${TINGWU_IN_CUDA12_ROOT:-}" ]; then
  echo "build-cuda: no CUDA 12 toolkit here; building in the Debian trixie root with CUDA 12.4 (scripts/cuda12-root.sh)" >&2
  cd "$ROOT"
  exec bash "$ROOT/scripts/cuda12-root.sh" run env TINGWU_IN_CUDA12_ROOT=1 bash scripts/build-cuda.sh "$@"
fi
echo "build-cuda: no CUDA${major:+ $major} toolkit to build with (see docs/CUDA.md)" >&2
exit 1
