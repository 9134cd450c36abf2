#!/usr/bin/env bash
# `npm run test:asan`: builds the addon with AddressSanitizer + LeakSanitizer (clang, with clang's
# runtime from Debian's libclang-rt-<N>-dev) and runs the native test suite against it, in one node
# process (vitest.asan.config.ts) whose exit-time leak check covers every test file. The run passes
# only if the tests pass and no node process reports a sanitizer error.
#
#   bash scripts/asan.sh [vitest files...]    (default: test/native)
#
# Suppressions live in test/asan/lsan.supp, each one justified there; nothing in whisper.cpp, ggml
# or native/ is suppressed. Not in CI (the CUDA build takes its time; see docs/RELIABILITY.md).
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
linked="$(ldd "$BINARY")"
grep -q libclang_rt.asan <<<"$linked" || { echo "asan: $BINARY is not linked with the ASan runtime" >&2; exit 1; }

LOGS="$(mktemp -d "${TMPDIR:-/tmp}/tingwu-asan.XXXXXX")"
# Every process of the run inherits LD_PRELOAD (vitest, its forks, and what the tests spawn: sh,
# readelf, gcc, whisper-cli...). log_exe_name splits the reports by executable: `node` processes
# run our instrumented addon and count; the others are uninstrumented system tools, listed apart.
# verbosity=1 makes each process log "LeakSanitizer: checking for leaks" when its exit-time leak
# check runs, so the run can show that every node process was checked (a killed process isn't).
export ASAN_OPTIONS="detect_leaks=1:log_path=$LOGS/report:log_exe_name=1:verbosity=1:allow_user_segv_handler=1:handle_segv=0:detect_odr_violation=0:exitcode=66:strict_string_checks=1"
export LSAN_OPTIONS="suppressions=$ROOT/test/asan/lsan.supp:print_suppressions=1:exitcode=0"
if command -v llvm-symbolizer >/dev/null 2>&1; then export ASAN_SYMBOLIZER_PATH="$(command -v llvm-symbolizer)"; fi
export TINGWU_WHISPER_BINARY="$BINARY"
export TINGWU_ASAN=1

status=0
LD_PRELOAD="$RUNTIME" node -r ./test/asan/keep-loaded.cjs node_modules/vitest/vitest.mjs run -c vitest.asan.config.ts "${@:-test/native}" || status=$?

errors=0; node_procs=0; node_checked=0; others=0
for f in "$LOGS"/report.*; do
  [ -e "$f" ] || continue
  exe="$(basename "$f" | cut -d. -f2)"
  if [ "$exe" != "node" ]; then
    if grep -q "ERROR: " "$f"; then others=$((others + 1)); fi
    continue
  fi
  node_procs=$((node_procs + 1))
  if grep -q "LeakSanitizer: checking for leaks" "$f"; then node_checked=$((node_checked + 1)); fi
  if grep -q "ERROR: AddressSanitizer\|ERROR: LeakSanitizer" "$f"; then
    errors=$((errors + 1))
    echo "== $f" >&2
    sed -n '/ERROR: /,/^SUMMARY: /p' "$f" | sed -n '1,80p' >&2
  fi
done
suppressed=$( (grep -l "^Suppressions used" "$LOGS"/report.node.* 2>/dev/null || true) | wc -l)
echo "asan: tests exit $status; $node_procs node processes, $node_checked ran the exit-time leak check; $errors with sanitizer errors; $suppressed used suppressions; $others report(s) from uninstrumented tools the tests ran (not counted); logs in $LOGS" >&2
[ "$status" -eq 0 ] && [ "$errors" -eq 0 ] && [ "$node_procs" -gt 0 ]
