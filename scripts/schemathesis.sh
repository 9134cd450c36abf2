#!/usr/bin/env bash
# Schema-based fuzzing of the HTTP API (issue 8): schemathesis, from PyPI, generates requests from
# /openapi.json and sends them to `tingwu-whisper serve` on 127.0.0.1 with the scripted mini model.
# Fails on any 5xx (check not_a_server_error). Not part of `npm test`: it needs Python and takes minutes.
#
#   bash scripts/schemathesis.sh [--max-examples N] [--seconds S] [--seed N]
#
# Environment: SCHEMATHESIS_VENV (default /tmp/tingwu-schemathesis-venv) holds the pinned install.
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
MAX_EXAMPLES=25
SECONDS_LIMIT=600
SEED=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --max-examples) MAX_EXAMPLES="$2"; shift 2 ;;
    --seconds) SECONDS_LIMIT="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    *) echo "unknown argument: $1 (expected --max-examples N, --seconds S, --seed N)" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${SCHEMATHESIS_VENV:-/tmp/tingwu-schemathesis-venv}"
if [[ ! -x "$VENV/bin/schemathesis" ]] || [[ "$("$VENV/bin/schemathesis" --version)" != *"$SCHEMATHESIS_VERSION"* ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi

MODEL="$(node --import tsx -e 'import("./test/fixtures/models.ts").then(async (m) => console.log(await m.scriptedModelPath({ dims: "mini" })))')"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
WORK="$(mktemp -d)"
LOG="$WORK/server.log"

WHISPER_MODEL="$MODEL" WHISPER_THREADS=2 PORT="$PORT" HOST=127.0.0.1 LOG_LEVEL=info DATA_DIR="$WORK/data" \
  node --import tsx lib/cli.ts serve >"$LOG" 2>&1 &
SERVER_PID=$!
stop_server() {
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" || true
  fi
}
trap stop_server EXIT

for _ in $(seq 1 120); do
  if curl -fsS "$BASE/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then cat "$LOG" >&2; echo "the server exited before it was ready" >&2; exit 1; fi
  sleep 0.5
done
curl -fsS "$BASE/health" >/dev/null || { cat "$LOG" >&2; echo "the server did not become ready in 60 s" >&2; exit 1; }

status=0
timeout --signal=INT "$SECONDS_LIMIT" "$VENV/bin/schemathesis" run "$BASE/openapi.json" \
  --checks not_a_server_error \
  --max-examples "$MAX_EXAMPLES" \
  --seed "$SEED" \
  --request-timeout 60 \
  --report junit --report-dir "$WORK/report" || status=$?

# Any 5xx the server answered, with the request that caused it, from its own log.
if grep -q '"statusCode":5[0-9][0-9]' "$LOG"; then
  echo "--- 5xx answers in the server log ($LOG):"
  grep '"statusCode":5[0-9][0-9]' "$LOG" | head -20
fi
echo "schemathesis exit status: $status (server log: $LOG, reports: $WORK/report)"
exit "$status"
