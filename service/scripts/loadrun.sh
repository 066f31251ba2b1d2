#!/usr/bin/env bash
# Load run on this machine: the service with logging on (to a file) and the load generator
# (and wrk, when installed) on loopback, sharing the machine's cores. Prints one JSON report
# per step. Usage: scripts/loadrun.sh [OUT_DIR]   (env: PORT, THROUGHPUT_SECONDS, MIXED_SECONDS)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${1:-$(mktemp -d)}
port=${PORT:-18080}
tp=${THROUGHPUT_SECONDS:-20}
mixed=${MIXED_SECONDS:-30}
url="http://127.0.0.1:$port"
mkdir -p "$out"

CGO_ENABLED=0 go build -trimpath -o "$out/" ./cmd/readings ./cmd/loadgen
SITE=onprem NODE_NAME=bench LISTEN_ADDR="127.0.0.1:$port" DRAIN_DELAY=0s "$out/readings" >"$out/readings.log" 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -fsS -o /dev/null "$url/readyz" 2>/dev/null && break; sleep 0.1; done

echo "# preload: 13 sensors x 4 metrics = 52 series"
"$out/loadgen" -target "$url" -rate 0 -concurrency 4 -duration 3s -sensors 13 -summary-ratio 0 -invalid-ratio 0 2>/dev/null
curl -fsS "$url/api/readings/summary" | head -c 120; echo " ..."

echo "# 1. throughput: GET /api/readings/summary, 64 connections, ${tp}s, loadgen"
"$out/loadgen" -target "$url" -rate 0 -concurrency 64 -duration "${tp}s" -summary-ratio 1 -invalid-ratio 0 2>/dev/null
if command -v wrk >/dev/null; then
  echo "# 1b. throughput: the same with wrk (1 thread, 64 connections)"
  wrk -t1 -c64 -d"${tp}s" --latency "$url/api/readings/summary"
fi

echo "# 2. latency: mixed load at 1000 req/s for ${mixed}s (30% summary, 5% invalid, 65% valid POSTs)"
"$out/loadgen" -target "$url" -rate 1000 -concurrency 16 -duration "${mixed}s" -sensors 13 2>/dev/null

kill -TERM $server
wait $server || true
trap - EXIT
echo "# server log: $(wc -l <"$out/readings.log") lines, $(du -h "$out/readings.log" | cut -f1) in $out/readings.log"
