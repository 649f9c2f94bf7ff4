#!/usr/bin/env bash
# Prints how long the CLI takes (numbers, never assertions): `integration-service --help`, and a
# `deliveries list` round trip against a dev server started here on a free port from a fresh data
# dir (found through .data/dev-server.json, as a user's CLI finds it). hyperfine when installed,
# else the median of RUNS runs timed with date.
#   bash scripts/cli-startup.sh            (npm run cli:startup)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/bin/integration-service.mjs"
runs="${RUNS:-10}"
work="$(mktemp -d)"
dev_pid=""
cleanup() {
  if [[ -n "$dev_pid" ]]; then kill -TERM "$dev_pid" 2>/dev/null || true; wait "$dev_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Build first if src/ changed, so no run below pays for it.
node "$bin" --version >/dev/null

cd "$work"
PORT=0 node "$bin" dev --data-dir .data >"$work/dev.log" 2>&1 &
dev_pid=$!
for _ in $(seq 1 300); do
  [[ -f .data/dev-server.json ]] && break
  sleep 0.2
done
[[ -f .data/dev-server.json ]] || { echo "dev server did not start:"; cat "$work/dev.log"; exit 1; }
node "$bin" events publish --type order.placed --store store-1 >/dev/null

median_ms() {
  local times=()
  for _ in $(seq 1 "$runs"); do
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "median %d ms, min %d ms, max %d ms (%d runs)\n", a[int((NR + 1) / 2)], a[1], a[NR], NR }'
}

echo "node $(node --version), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
if command -v hyperfine >/dev/null; then
  hyperfine --warmup 2 --runs "$runs" -N \
    "node $bin --help" \
    "node $bin deliveries list --store store-1"
else
  echo "integration-service --help:                      $(median_ms node "$bin" --help)"
  echo "integration-service deliveries list (round trip): $(median_ms node "$bin" deliveries list --store store-1)"
fi
