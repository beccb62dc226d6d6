#!/usr/bin/env bash
# The public registry benchmark of SPEC §6: `GET /public/v1/therapies` (whole registry and a
# search) and the public page `/registro`, without login, 64 connections, on a fresh SQLite
# database with the fixture network. Target: >= 5,000 requests/s each.
#
# Usage, from anywhere:  bench/registry.sh
# Environment: DATA (/tmp/traza-bench), DURATION (15s), PORT (18095).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA=${DATA:-/tmp/traza-bench}
DURATION=${DURATION:-15s}
PORT=${PORT:-18095}
BUILT=${CARGO_TARGET_DIR:-$ROOT/target}/release
mkdir -p "$DATA"
command -v wrk >/dev/null || { echo "installing wrk…" >&2; apt-get install -y -qq wrk >/dev/null; }

echo "building traza (release)…" >&2
(cd "$ROOT" && cargo build --release --quiet -p traza --bin traza)
DB="$DATA/registry-$$.db"
URL="sqlite://$DB?mode=rwc"
"$BUILT/traza" --database-url "$URL" fixtures load >/dev/null
TRAZA_BIND="127.0.0.1:$PORT" TRAZA_LOG=warn "$BUILT/traza" --database-url "$URL" serve \
    >"$DATA/registry-serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -f "$DB" "$DB-wal" "$DB-shm"' EXIT
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break
    sleep 0.1
done

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
run() { # NAME PATH
    local out
    out=$(wrk -t2 -c64 -d"$DURATION" --latency "http://127.0.0.1:$PORT$2")
    local rps p99 non2xx
    rps=$(awk '/^Requests\/sec/ { printf "%.0f", $2 }' <<<"$out")
    p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
    non2xx=$(awk '/Non-2xx/ { print $NF }' <<<"$out")
    printf '%-34s | %9s | %8s | %6s | %s\n' "$1" "$rps" "$p99" "${non2xx:-0}" \
        "$( ((rps >= 5000)) && echo ok || echo MISSED)"
}
{
    echo "Traza public registry benchmark (SPEC §6), $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "tree: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown); load average at start $LOAD_START"
    echo "wrk -t2 -c64 -d$DURATION, target >= 5000 req/s"
    echo
    printf '%-34s | %9s | %8s | %6s | %s\n' "request" "req/s" "p99" "non2xx" "target"
    run "GET /public/v1/therapies" "/public/v1/therapies"
    run "GET /public/v1/therapies?q=condrocitos" "/public/v1/therapies?q=condrocitos"
    run "GET /registro" "/registro"
    run "GET /registro?q=mesenquimales" "/registro?q=mesenquimales"
    echo "load average at end $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$DATA/registry-results.txt"
