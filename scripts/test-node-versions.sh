#!/usr/bin/env bash
# A representative subset of the tests (binary loading, the scripted native transcript, the
# server's routes, require() from CommonJS) under other Node majors, with the addon built here:
# N-API is ABI-stable, so one build serves every Node version. The Node binaries come from npm's
# registry (the packages node-<platform>-<arch>@<major>), kept in .node-versions/.
#   bash scripts/test-node-versions.sh [major…]     default: 22 24
set -euo pipefail
cd "$(dirname "$0")/.."
majors=("$@")
[ ${#majors[@]} -eq 0 ] && majors=(22 24)
pkg="node-$(node -p 'process.platform + "-" + process.arch')"
tests=(test/native/loader.test.ts test/native/backend.test.ts test/server/tingwu.test.ts test/pack/commonjs.test.ts)

for major in "${majors[@]}"; do
  dir=".node-versions/$major"
  bin="$PWD/$dir/node_modules/$pkg/bin"
  if [ ! -x "$bin/node" ]; then
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-save --no-audit --no-fund --ignore-scripts --no-package-lock "$pkg@$major" >/dev/null
  fi
  echo "== Node $("$bin/node" --version): ${tests[*]}"
  # Child processes the tests start (workers, the CLI, npm) run on the same Node.
  PATH="$bin:$PATH" "$bin/node" node_modules/vitest/vitest.mjs run "${tests[@]}"
done
