#!/usr/bin/env bash
# `npm run build:cuda`: builds the cuda variant (build/cuda<major>/tingwu_whisper_cuda<major>.node)
# with the toolkit scripts/cuda-toolkit.sh finds or assembles. The Dockerfile and CI run this too.
#   CUDA_ARCHITECTURES="75;86"   arch list (default: the release list for the toolkit's major)
#   TINGWU_CUDA_FA=OFF           leave out the flash-attention kernels (faster build; CI)
#   TINGWU_BUILD_JOBS=N          parallel compile jobs (default: the number of cores)
# Extra arguments go to scripts/build-native.mjs (e.g. --jobs 2).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CUDA_HOME="$(bash "$ROOT/scripts/cuda-toolkit.sh")"
export CUDA_HOME
export PATH="$CUDA_HOME/bin:$PATH"
exec node "$ROOT/scripts/build-native.mjs" --variant cuda "$@"
