#!/usr/bin/env bash
# `npm run test:asan`: builds the addon with AddressSanitizer + LeakSanitizer (clang, with clang's
# runtime from Debian's libclang-rt-<N>-dev) and runs the native test suite against it. Every
# process of the run (vitest, its forks, the children the tests spawn) writes sanitizer reports
# to a log directory; the run passes only if the tests pass and no report was written.
#
#   bash scripts/asan.sh [vitest files...]    (default: test/native)
#
# The only suppressions are in test/asan/lsan.supp: leaks inside node and V8 themselves (not
# instrumented, not ours), each one justified there. Nothing in whisper.cpp, ggml or native/ is
# suppressed. Too slow for CI next to the CUDA build (see docs/RELIABILITY.md): run by hand.
#   apt-get install clang-16 libclang-rt-16-dev   (or any clang with its libclang-rt-*-dev)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CC="${CC:-}"
if [ -z "$CC" ]; then
  for v in "" -19 -18 -17 -16 -15 -14; do
    if command -v "clang$v" >/dev/null 2>&1 && command -v "clang++$v" >/dev/null 2>&1; then CC="clang$v"; CXX="clang++$v"; break; fi
  done
fi
[ -n "$CC" ] || { echo "asan: no clang found (apt-get install clang-16 libclang-rt-16-dev)" >&2; exit 1; }
CXX="${CXX:-${CC/clang/clang++}}"
RUNTIME="$("$CC" -print-file-name=libclang_rt.asan-x86_64.so)"
[ -f "$RUNTIME" ] || { echo "asan: $CC has no ASan runtime (install libclang-rt-$("$CC" -dumpversion | cut -d. -f1)-dev)" >&2; exit 1; }
echo "asan: $CC ($("$CC" -dumpversion)), runtime $RUNTIME" >&2

CC="$CC" CXX="$CXX" node scripts/build-native.mjs --sanitize address
BINARY="$ROOT/build/Release-asan/tingwu_whisper.node"
ldd "$BINARY" | grep -q libclang_rt.asan || { echo "asan: $BINARY is not linked with the ASan runtime" >&2; exit 1; }

LOGS="$(mktemp -d "${TMPDIR:-/tmp}/tingwu-asan.XXXXXX")"
# detect_leaks: LeakSanitizer at each process exit. Node's own allocator (V8's cage) and signal
# handlers stay: allow_user_segv_handler. abort_on_error=0 + exitcode=66 make an error visible.
export ASAN_OPTIONS="detect_leaks=1:log_path=$LOGS/report:allow_user_segv_handler=1:handle_segv=0:detect_odr_violation=0:exitcode=66:strict_string_checks=1:detect_stack_use_after_return=0"
export LSAN_OPTIONS="suppressions=$ROOT/test/asan/lsan.supp:print_suppressions=1:exitcode=0"
export TINGWU_WHISPER_BINARY="$BINARY"
export TINGWU_ASAN=1

status=0
LD_PRELOAD="$RUNTIME" node node_modules/vitest/vitest.mjs run --pool=forks "${@:-test/native}" || status=$?

reports=("$LOGS"/report.*)
errors=0
if [ -e "${reports[0]}" ]; then
  for f in "${reports[@]}"; do
    # A report that lists only suppressed leaks is a summary, not an error.
    if grep -q "ERROR: AddressSanitizer\|ERROR: LeakSanitizer" "$f"; then
      errors=$((errors + 1))
      echo "== $f" >&2
      sed -n '1,80p' "$f" >&2
    fi
  done
fi
suppressed=$(cat "$LOGS"/report.* 2>/dev/null | grep -c "^Suppressions used" || true)
echo "asan: tests exit $status; $errors sanitizer report(s) with errors; $suppressed process(es) used suppressions; logs in $LOGS" >&2
[ "$status" -eq 0 ] && [ "$errors" -eq 0 ]
