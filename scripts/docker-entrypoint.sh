#!/bin/sh
# The image's entrypoint. Started as root, it makes the model cache writable for the service user
# (a ./data created by root, as TingWu's other services create theirs, would otherwise break the
# first download), then drops to that user (uid/gid 10001) and execs the CLI: `serve` by default,
# or any other command (`models download large-v3`, `inspect`, `transcribe …`).
# Started as another user (`docker run --user …`), it changes nothing and runs the CLI as that user.
set -eu
APP_UID=10001
APP_GID=10001
cli() { exec node /app/dist/cli.js "$@"; }

if [ "$(id -u)" -ne 0 ]; then cli "$@"; fi

# The service writes only the model cache; the rest of /app/data stays as the operator made it.
root="${WHISPER_DOWNLOAD_ROOT:-/app/data/models/whisper}"
case "$root" in /*) ;; *) root="/app/$root" ;; esac
# The cache and whatever another user left in it (a download started as root), nothing else.
if mkdir -p "$root" 2>/dev/null; then
  find "$root" ! -user "$APP_UID" -exec chown "$APP_UID:$APP_GID" {} + 2>/dev/null \
    || echo "tingwu-whisper: could not give $root to uid $APP_UID (read-only?); downloads into it may fail" >&2
fi

exec setpriv --reuid="$APP_UID" --regid="$APP_GID" --clear-groups --inh-caps=-all -- node /app/dist/cli.js "$@"
