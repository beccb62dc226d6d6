#!/usr/bin/env bash
# The login storm of SPEC §2 and §7: 100 users log in at once with their right passwords.
# Targets: `traza serve` RSS grows by <= 128 MB, and `/healthz` keeps answering within 100 ms
# while argon2 works through the queue (argon2 runs a few at a time, outside transactions).
# Prints RSS before, at its peak during the storm and after, the slowest /healthz answer, and
# the logins' own times.
#
# Usage, from anywhere:  bench/login-storm.sh
# Environment: DATA (/tmp/traza-bench), PORT (18096), USERS (100).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA=${DATA:-/tmp/traza-bench}
PORT=${PORT:-18096}
USERS=${USERS:-100}
BUILT=${CARGO_TARGET_DIR:-$ROOT/target}/release
mkdir -p "$DATA"

echo "building traza (release)…" >&2
(cd "$ROOT" && cargo build --release --quiet -p traza --bin traza)
DB="$DATA/storm-$$.db"
URL="sqlite://$DB?mode=rwc"
"$BUILT/traza" --database-url "$URL" fixtures load >/dev/null
echo "creating $USERS users…" >&2
for i in $(seq -w 1 "$USERS"); do
    "$BUILT/traza" --database-url "$URL" user add --username "tormenta.$i" \
        --full-name "Usuaria de carga $i" --role auditor --password-stdin --user traza.admin \
        <<<"clave-de-carga-larga-$i" >/dev/null
done
TRAZA_BIND="127.0.0.1:$PORT" TRAZA_LOG=warn "$BUILT/traza" --database-url "$URL" serve \
    >"$DATA/storm-serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -f "$DB" "$DB-wal" "$DB-shm"' EXIT
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break
    sleep 0.1
done
rss() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$SERVER/status"; }
# Warm up: one login, one read, so that "before" is a server that has done its first work.
curl -fs -X POST "http://127.0.0.1:$PORT/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"username":"tormenta.001","password":"clave-de-carga-larga-001"}' >/dev/null
BEFORE=$(rss)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# While the storm lasts: RSS and /healthz, every 20 ms.
( peak=0; slow=0
  while [ ! -f "$DATA/storm-done-$$" ]; do
      r=$(rss); t=$(curl -fs -o /dev/null -w '%{time_total}' "http://127.0.0.1:$PORT/healthz" || echo 9)
      peak=$(awk -v a="$peak" -v b="$r" 'BEGIN { print (b > a) ? b : a }')
      slow=$(awk -v a="$slow" -v b="$t" 'BEGIN { print (b > a) ? b : a }')
      sleep 0.02
  done
  echo "$peak $slow" >"$DATA/storm-watch-$$" ) &
WATCH=$!

START=$(date +%s.%N)
seq -w 1 "$USERS" | xargs -P "$USERS" -I{} curl -s -o /dev/null -w '%{http_code} %{time_total}\n' \
    -X POST "http://127.0.0.1:$PORT/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"username":"tormenta.{}","password":"clave-de-carga-larga-{}"}' >"$DATA/storm-logins-$$"
END=$(date +%s.%N)
touch "$DATA/storm-done-$$"
wait $WATCH
read -r PEAK SLOWEST <"$DATA/storm-watch-$$"
sleep 2
AFTER=$(rss)
OK=$(grep -c '^200 ' "$DATA/storm-logins-$$" || true)
SLOWEST_LOGIN=$(sort -k2 -n "$DATA/storm-logins-$$" | tail -n 1 | cut -d' ' -f2)
rm -f "$DATA/storm-done-$$" "$DATA/storm-watch-$$" "$DATA/storm-logins-$$"
GROWTH=$(awk -v a="$BEFORE" -v b="$PEAK" 'BEGIN { printf "%.1f", b - a }')
HEALTH_MS=$(awk -v t="$SLOWEST" 'BEGIN { printf "%.0f", t * 1000 }')
{
    echo "Traza login storm (SPEC §2, §7), $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine: $(nproc) CPUs; tree: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown); load average at start $LOAD_START"
    echo "$USERS concurrent logins with right passwords: $OK answered 200 in $(awk -v s="$START" -v e="$END" 'BEGIN { printf "%.2f", e - s }') s (slowest login ${SLOWEST_LOGIN} s)"
    printf 'RSS before %s MB, peak %s MB, after %s MB: growth %s MB (target <= 128 MB: %s)\n' \
        "$BEFORE" "$PEAK" "$AFTER" "$GROWTH" "$(awk -v g="$GROWTH" 'BEGIN { print (g <= 128) ? "ok" : "MISSED" }')"
    printf 'slowest /healthz during the storm: %s ms (target <= 100 ms: %s)\n' \
        "$HEALTH_MS" "$( ((HEALTH_MS <= 100)) && echo ok || echo MISSED)"
} | tee "$DATA/storm-results.txt"
