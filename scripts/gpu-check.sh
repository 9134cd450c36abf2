#!/usr/bin/env bash
# The one check for a machine with an NVIDIA GPU (docs/CUDA.md, "Checking on a GPU"):
#   bash scripts/gpu-check.sh [--out DIR] [--binary FILE.node] [--arch SM]
# 1. finds the GPU (nvidia-smi) and its compute capability;
# 2. builds the cuda variant for that arch only, flash attention on (`npm run build:cuda` with the
#    installed toolkit; a few minutes on 16 cores), unless --binary gives one (it is copied to
#    build/cuda<major>/ so the loader's automatic choice sees it too);
# 3. runs test/native/cuda.test.ts with the device present (the cases skipped without a driver);
# 4. the scripted model's exact transcript on the GPU, flash attention on and off, alone and with
#    concurrency 3 (scripts/gpu-check-transcripts.ts);
# 5. `npm run bench -- --device cuda --quick`;
# and writes DIR/gpu-check.json (default: gpu-check-out/) with every step's result and figures.
# Needs no registry: Node, this checkout with node_modules (npm ci done), cmake, a C++ compiler
# and the CUDA toolkit (nvcc + cuBLAS), or --binary. Without a visible CUDA device it runs what it
# can, says so, and exits 1.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="$ROOT/gpu-check-out"
BINARY=""
ARCH=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="${2:?--out needs a folder}"; shift ;;
    --binary) BINARY="${2:?--binary needs a .node file}"; shift ;;
    --arch) ARCH="${2:?--arch needs a compute capability, e.g. 90}"; shift ;;
    -h | --help) sed -n 2,16p "$0"; exit 0 ;;
    *) echo "gpu-check: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
started=$(date +%s)
steps=()   # JSON objects, one per step
failed=0
say() { echo "== gpu-check [$(($(date +%s) - started))s] $*" >&2; }
json_str() { node -e 'process.stdout.write(JSON.stringify(process.argv[1]))' "$1"; }
# record NAME STATUS(ok|failed|skipped) SECONDS NOTE [EXTRA_JSON]
record() {
  steps+=("{\"step\":$(json_str "$1"),\"status\":\"$2\",\"seconds\":$3,\"note\":$(json_str "$4")${5:+,\"result\":$5}}")
  [ "$2" = failed ] && failed=1
  return 0
}
# run NAME LOGFILE CMD...: runs a step, its output to OUT/LOGFILE and the terminal
run() {
  local name="$1" log="$OUT/$2" t0 rc
  shift 2
  t0=$(date +%s)
  say "$name: $*"
  "$@" > >(tee "$log") 2>&1
  rc=$?
  wait
  if [ "$rc" -eq 0 ]; then record "$name" ok $(($(date +%s) - t0)) "log: $(basename "$log")"; else record "$name" failed $(($(date +%s) - t0)) "exit $rc, log: $(basename "$log")"; fi
  return "$rc"
}

# --- 1. the GPU -------------------------------------------------------------------------------
gpu=""
if command -v nvidia-smi >/dev/null 2>&1; then
  gpu="$(timeout 60 nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"
fi
if [ -n "$gpu" ]; then
  say "GPU: $gpu"
  [ -n "$ARCH" ] || ARCH="$(echo "$gpu" | cut -d, -f2 | tr -d ' .')"
  record "gpu" ok 0 "$gpu"
else
  say "NO CUDA DEVICE IS VISIBLE: nvidia-smi $(command -v nvidia-smi >/dev/null 2>&1 && echo "lists no GPU" || echo "is not installed"). The GPU steps can't run here; running what can."
  record "gpu" failed 0 "no CUDA device is visible (nvidia-smi $(command -v nvidia-smi >/dev/null 2>&1 && echo "lists no GPU" || echo "is not installed"))"
fi

# --- 2. the binary ----------------------------------------------------------------------------
if [ -n "$BINARY" ]; then
  major="$(basename "$(dirname "$BINARY")")$(basename "$BINARY")"
  major="$(echo "$major" | grep -o 'cuda[0-9]*' | head -1 | tr -dc 0-9)"
  if [ -z "$major" ] || [ ! -f "$BINARY" ]; then
    record "binary" failed 0 "$BINARY: not a file named after its CUDA major (cuda12/, cuda13/ or tingwu_whisper_cudaN.node)"
  else
    mkdir -p "build/cuda$major"
    cp -f "$BINARY" "build/cuda$major/tingwu_whisper_cuda$major.node"
    record "binary" ok 0 "given: $BINARY (copied to build/cuda$major/)"
  fi
elif [ -n "$ARCH" ]; then
  CUDA_ARCHITECTURES="$ARCH" TINGWU_BUILD_JOBS="${TINGWU_BUILD_JOBS:-$(nproc)}" \
    run "build (CUDA_ARCHITECTURES=$ARCH, flash attention on)" build.log npm run build:cuda
else
  record "build" skipped 0 "no GPU to take the arch from, and no --arch or --binary: nothing to build for"
fi

# --- 3. the CUDA tests --------------------------------------------------------------------------
cuda_binary="$(node --input-type=module -e 'import { nativeCandidates } from "./scripts/native-binaries.mjs"; process.stdout.write(nativeCandidates(process.cwd(), "cuda")[0]?.file ?? "")')"
if [ -n "$cuda_binary" ]; then
  say "CUDA binary: $cuda_binary"
  TINGWU_REQUIRE_CUDA_BUILD=1 run "CUDA tests (test/native/cuda.test.ts$([ -n "$gpu" ] && echo ", device present" || echo ", no device: the GPU-less cases"))" \
    cuda-tests.log npx vitest run test/native/cuda.test.ts
else
  record "CUDA tests" skipped 0 "no CUDA binary in build/ or prebuilds/"
fi

# --- 4. exact transcripts on the GPU, flash attention on/off, concurrency 3 -----------------------
transcripts=""
if [ -n "$cuda_binary" ]; then
  t0=$(date +%s)
  say "scripted transcripts on the GPU (flash attention on and off, concurrency 3)"
  transcripts="$(TINGWU_WHISPER_VARIANT=cuda node --import tsx scripts/gpu-check-transcripts.ts 2> "$OUT/transcripts.log")"
  rc=$?
  echo "$transcripts" >&2
  if [ "$rc" -eq 0 ]; then status=ok; else status=failed; fi
  [ -n "$transcripts" ] || transcripts=null
  record "scripted transcripts on the GPU" "$status" $(($(date +%s) - t0)) "exact transcript, device not cpu, FA on/off, concurrency 3" "$transcripts"
else
  record "scripted transcripts on the GPU" skipped 0 "no CUDA binary"
fi

# --- 5. benchmark ---------------------------------------------------------------------------------
if [ -n "$gpu" ] && [ -n "$cuda_binary" ]; then
  # The bench writes bench/results/latest.*: keep the checked-in ones, take the new report.
  backup="$(mktemp -d)"
  cp -a bench/results/latest.* "$backup"/ 2>/dev/null || true
  TINGWU_WHISPER_VARIANT=cuda run "npm run bench -- --device cuda --quick" bench.log npm run bench -- --device cuda --quick
  cp -f bench/results/latest.json "$OUT/bench.json" 2>/dev/null || true
  cp -f bench/results/latest.md "$OUT/bench.md" 2>/dev/null || true
  cp -a "$backup"/. bench/results/ 2>/dev/null || true
  rm -rf "$backup"
else
  record "npm run bench -- --device cuda --quick" skipped 0 "needs a visible CUDA device and a CUDA binary"
fi

# --- report ---------------------------------------------------------------------------------------
[ -n "$gpu" ] || failed=1
{
  printf '{"ok":%s,"gpu":%s,"seconds":%d,"host":%s,"node":%s,"steps":[' \
    "$([ "$failed" -eq 0 ] && echo true || echo false)" "$([ -n "$gpu" ] && json_str "$gpu" || echo null)" \
    $(($(date +%s) - started)) "$(json_str "$(hostname)")" "$(json_str "$(node --version)")"
  (IFS=,; printf '%s' "${steps[*]}")
  printf '],"bench":%s}\n' "$(cat "$OUT/bench.json" 2>/dev/null || echo null)"
} | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.stringify(JSON.parse(s),null,2)+"\n"))' >"$OUT/gpu-check.json"
say "report: $OUT/gpu-check.json"
if [ -z "$gpu" ]; then
  say "FAILED: no CUDA device is visible on this machine; only the GPU-less steps ran (see the report)."
  exit 1
fi
[ "$failed" -eq 0 ] && say "all steps passed" || say "FAILED: see the steps marked failed in the report"
exit "$failed"
