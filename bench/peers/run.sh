#!/usr/bin/env bash
# npm run bench:peers: installs bench/peers' own packages (BullMQ, pg-boss,
# graphile-worker: kept out of the service's dependencies) when they are missing
# or older than its lockfile, then runs the benchmark. Settings: bench/peers/main.ts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

peers=bench/peers
if [[ ! -f "$peers/node_modules/.package-lock.json" || "$peers/package-lock.json" -nt "$peers/node_modules/.package-lock.json" ]]; then
  echo "bench:peers: installing $peers packages (npm ci)" >&2
  npm ci --prefix "$peers" --no-audit --no-fund >&2
fi
exec node --import tsx "$peers/main.ts" "$@"
