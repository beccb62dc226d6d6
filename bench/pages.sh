#!/usr/bin/env bash
# The pages of issue 16 on a database holding a 1,000,000-row history, one user logged in
# through the login page (cookie session), N sequential requests per page, p50 and p99:
#
#   /lotes                   the batch list, first page and a filtered page   p99 <= 50 ms
#   /lotes/{number}          a batch's page (a random batch per request)       p99 <= 50 ms
#   /liberacion              the release queue                                 p99 <= 50 ms
#   /panel                   the network dashboard, whole history and a range  p99 <= 200 ms
#   /lotes/{n}/registro.pdf  the PDF batch record of a guided batch with 20
#                            recorded steps                                    p99 <= 200 ms
#
# on SQLite and on PostgreSQL. The guided batch is made through the JSON API: a master record
# of 20 steps written by one QA person of GRA-UPCIT and approved by the other, a batch of it,
# and its 20 steps recorded (every fourth verified by QA).
#
# Usage, from anywhere:  bench/pages.sh
#                        ROWS=100000 N=50 bench/pages.sh     (a quicker run)
# Environment: ROWS (1000000), DATA (/tmp/bench-pages), PGURL (postgres://postgres@127.0.0.1:5432;
# PostgreSQL is skipped if it does not answer), N (200 timed requests per page, after WARM
# untimed ones, 5), TRAZA_PORT (18280), PAGE_USER (lucia.navarro, the coordinator: the whole
# network), DB_PREFIX (traza_pages_).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROWS=${ROWS:-1000000}
DATA=${DATA:-/tmp/bench-pages}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
N=${N:-200}
WARM=${WARM:-5}
TRAZA_PORT=${TRAZA_PORT:-18280}
PAGE_USER=${PAGE_USER:-lucia.navarro}
IMPORT_USER=${IMPORT_USER:-lucia.navarro}
DB_PREFIX=${DB_PREFIX:-traza_pages_}
# GRA-UPCIT: its QA pair (author, approver), a technician, and the coordinator.
GUIDE_LAB=GRA-UPCIT GUIDE_PRODUCT=MSC-AD-ALO GUIDE_TRIAL=2015-001726-39
QA_AUTHOR=isabel.morales QA_APPROVER=carmen.ruiz TECHNICIAN=marta.jimenez COORDINATOR=lucia.navarro
STEPS=20
BUILT=${CARGO_TARGET_DIR:-$ROOT/target}/release
RUN=$$

mkdir -p "$DATA"
DATA=$(cd "$DATA" && pwd)
BIN=$DATA/bin-$RUN
TRAZA=$BIN/traza
WORK=$DATA/pages-$RUN
BASE=http://127.0.0.1:$TRAZA_PORT

source "$ROOT/bench/common.sh"

cleanup() {
    stop_servers
    drop_databases
    rm -f "$WORK".db "$WORK".db-wal "$WORK".db-shm "$WORK".db.audit-key
    rm -rf "$BIN" "$WORK"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------
# The JSON API (bearer tokens), for the guided batch

token() { # USER
    local password answer t
    password=$(password_of "$1")
    [[ -n $password ]] || fail "no password for $1 in fixtures/network.json"
    answer=$(curl -s -X POST "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"$password\"}")
    t=$(jq -r '.token // empty' <<<"$answer")
    [[ -n $t ]] || fail "login as $1 answered: $answer"
    echo "$t"
}

# Calls the API and prints the answer's body; fails unless the status is WANT.
api() { # WANT METHOD PATH TOKEN [BODY]
    local want=$1 method=$2 path=$3 tok=$4 body=${5:-} code
    local args=(-s -o "$WORK/api-answer" -w '%{http_code}' -X "$method" -H "authorization: Bearer $tok")
    [[ -n $body ]] && args+=(-H 'content-type: application/json' -d "$body")
    code=$(curl "${args[@]}" "$BASE/api/v1$path" || true)
    [[ $code == "$want" ]] || fail "$method $path answered $code (wanted $want): $(head -c 600 "$WORK/api-answer")"
    cat "$WORK/api-answer"
}

# A master record of STEPS steps (each with a parameter in its limits, every fourth to be
# verified), approved, a batch of it started today, and every step recorded. Sets GUIDED.
make_guided_batch() {
    local author approver tech coord today
    author=$(token "$QA_AUTHOR") approver=$(token "$QA_APPROVER")
    tech=$(token "$TECHNICIAN") coord=$(token "$COORDINATOR")
    today=$(TZ=Europe/Madrid date +%F)
    local steps
    steps=$(jq -nc --argjson n "$STEPS" '[range(1; $n + 1) | {
        code: "paso-\(.)", title: "Paso \(.) del proceso",
        instructions: "Instrucciones del paso \(.): comprobar, anotar y firmar.",
        verification_required: (. % 4 == 0),
        parameters: [{name: "temperatura", unit: "°C", min: "36.0", max: "38.0", critical: true},
                     {name: "volumen", unit: "mL", min: "5", max: "50", critical: false}]}]')
    local mbr id
    mbr=$(api 201 POST /master-records "$author" \
        "$(jq -nc --arg p "$GUIDE_PRODUCT" --arg l "$GUIDE_LAB" --argjson s "$steps" \
            '{product_code: $p, lab_code: $l, steps: $s}')")
    id=$(jq -r .id <<<"$mbr")
    api 200 POST "/master-records/$id/approve" "$approver" \
        "{\"password\":\"$(password_of "$QA_APPROVER")\",\"effective_from\":\"$today\"}" >/dev/null
    # The imported history fills every month of GRA-UPCIT's capacity: lifted for this one batch
    # by the coordinator, then put back (both changes are in the audit trail).
    local capacity
    capacity=$(api 200 GET "/labs/$GUIDE_LAB" "$coord" | jq -c .capacity_per_month)
    api 200 PATCH "/labs/$GUIDE_LAB" "$coord" '{"capacity_per_month":null}' >/dev/null
    local b
    b=$(api 201 POST /batches "$tech" \
        "$(jq -nc --arg p "$GUIDE_PRODUCT" --arg l "$GUIDE_LAB" --arg t "$GUIDE_TRIAL" --arg d "$today" \
            '{product_code: $p, lab_code: $l, access_route: "clinical_trial", trial_id: $t,
              donor_code: "DON-PAGES-BENCH-1", collection_date: $d, manufacturing_start: $d,
              cell_count: "120000000", viability_percent: "93.5", volume_ml: "15", doses: 1}')")
    api 200 PATCH "/labs/$GUIDE_LAB" "$coord" "{\"capacity_per_month\":$capacity}" >/dev/null
    GUIDED=$(jq -r .batch_number <<<"$b")
    local k at
    for ((k = 1; k <= STEPS; k++)); do
        at=$(date -u -d "-$(((STEPS - k + 1) * 3)) minutes" +%Y-%m-%dT%H:%M:%SZ)
        api 201 POST "/batches/$GUIDED/steps/paso-$k" "$tech" \
            "{\"performed_at\":\"$at\",\"parameters\":[{\"name\":\"temperatura\",\"value\":\"37.0\"},{\"name\":\"volumen\",\"value\":\"$((10 + k))\"}],\"note\":\"Paso $k sin incidencias.\"}" >/dev/null
        if ((k % 4 == 0)); then
            api 200 POST "/batches/$GUIDED/steps/paso-$k/verify" "$tech" \
                "{\"username\":\"$QA_AUTHOR\",\"password\":\"$(password_of "$QA_AUTHOR")\"}" >/dev/null
        fi
    done
    local recorded
    recorded=$(api 200 GET "/batches/$GUIDED/steps" "$tech" | jq '[.. | objects | select(has("performed_at"))] | length')
    ((recorded >= STEPS)) || fail "the guided batch $GUIDED has $recorded step entries, not $STEPS"
}

# ---------------------------------------------------------------------------------------------
# The pages, with a cookie session

# Logs in through the login page: its CSRF cookie and field, then the form.
page_login() { # USER JAR
    local csrf code
    csrf=$(curl -s -c "$2" "$BASE/entrar" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -n 1)
    [[ -n $csrf ]] || fail "no CSRF field on /entrar"
    code=$(curl -s -o /dev/null -w '%{http_code}' -b "$2" -c "$2" "$BASE/entrar" \
        --data-urlencode "csrf=$csrf" --data-urlencode "username=$1" \
        --data-urlencode "password=$(password_of "$1")" --data-urlencode "volver=/")
    [[ $code == 303 ]] || fail "the login page answered $code for $1"
    grep -q traza "$2" || fail "no session cookie after logging in as $1"
}

declare -A R=()
BACKENDS=()

# Requests the paths of PATHS (one a line, used in turn) WARM + N times in sequence over one
# connection, with the session; sets R[backend.name.p50|p99|bad].
time_page() { # NAME PATHS JAR
    local name=$1 paths=$2 jar=$3 cfg=$WORK/$1.curl out=$WORK/$1.times
    awk -v n=$((WARM + N)) -v base="$BASE" '{ p[NR] = $0 } END {
        for (i = 0; i < n; i++) { printf "url = \"%s%s\"\noutput = \"/dev/null\"\n", base, p[i % NR + 1] } }' \
        "$paths" >"$cfg"
    curl -s -b "$jar" -K "$cfg" -w '%{http_code} %{time_total}\n' >"$out" || fail "curl for $name"
    local bad
    bad=$(awk '$1 != 200' "$out" | wc -l)
    R[$BL.$name.bad]=$bad
    ((bad == 0)) || log "$BL $name: $bad answers not 200 (first: $(awk '$1 != 200 { print $1; exit }' "$out"))"
    # Nearest rank over the timed requests, in milliseconds.
    read -r R[$BL.$name.p50] R[$BL.$name.p99] < <(tail -n "$N" "$out" | awk '{ print $2 * 1000 }' | sort -n |
        awk '{ v[NR] = $1 } END { r50 = int(NR * 0.5 + 0.999999); r99 = int(NR * 0.99 + 0.999999)
              printf "%.2f %.2f\n", v[r50], v[r99] }')
    log "$BL $name: p50 ${R[$BL.$name.p50]} ms, p99 ${R[$BL.$name.p99]} ms"
}

query() { # SQL
    if [[ $BACKEND == sqlite ]]; then
        sqlite3 -bail "$WORK.db" "$1"
    else
        psql "$DB_URL" -v ON_ERROR_STOP=1 -qAt -c "$1"
    fi
}

bench_backend() { # sqlite|postgres LABEL
    BACKEND=$1 BL=$2
    local url logs=$DATA/pages-$2
    BACKENDS+=("$2")
    rm -rf "$WORK"
    mkdir -p "$WORK"
    if [[ $BACKEND == sqlite ]]; then
        rm -f "$WORK.db" "$WORK.db-wal" "$WORK.db-shm"
        url="sqlite://$WORK.db?mode=rwc"
    else
        local db=${DB_PREFIX}$RUN
        psql_admin -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
        PG_DATABASES+=("$db")
        url=$PGURL/$db
    fi
    DB_URL=$url

    log "$2: fixtures and the import of $(basename "$FILE")…"
    "$TRAZA" --database-url "$url" fixtures load >"$logs-fixtures.log" 2>&1 ||
        fail "traza fixtures load" "$logs-fixtures.log"
    local t0 t1
    t0=$(date +%s.%N)
    "$TRAZA" --database-url "$url" import batches "$FILE" --user "$IMPORT_USER" >"$logs-import.log" 2>&1 ||
        fail "traza import" "$logs-import.log"
    t1=$(date +%s.%N)
    R[$2.import.secs]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    grep -q "rows $ROWS, created $ROWS, " "$logs-import.log" || fail "the import did not create $ROWS rows" "$logs-import.log"
    [[ $BACKEND == postgres ]] && query 'ANALYZE' >/dev/null

    log "$2: starting traza serve…"
    start_server "$logs-serve.log" "$BASE/healthz" \
        env TRAZA_BIND="127.0.0.1:$TRAZA_PORT" TRAZA_LOG=warn "$TRAZA" --database-url "$url" serve

    log "$2: a guided batch of $STEPS steps through the API…"
    make_guided_batch
    log "$2: guided batch $GUIDED"

    local jar=$WORK/cookies
    page_login "$PAGE_USER" "$jar"

    query "SELECT batch_number FROM batches ORDER BY random() LIMIT 1000" |
        grep -E '^[A-Za-z0-9._~-]+$' | sed 's|^|/lotes/|' >"$WORK/batch-pages"
    [[ -s $WORK/batch-pages ]] || fail "no batch numbers"
    echo /lotes >"$WORK/list"
    echo "/lotes?laboratorio=SEV-UPRC&producto=CART-CD19&estado=released&desde=2021-01-01&hasta=2024-12-31" >"$WORK/list-filtered"
    echo /liberacion >"$WORK/queue"
    echo /panel >"$WORK/panel"
    # Partial months at both ends: whole months from the rollup, the days around from the batches.
    echo "/panel?desde=2024-01-15&hasta=2024-06-20" >"$WORK/panel-range"
    echo "/lotes/$GUIDED/registro.pdf" >"$WORK/pdf"
    local page
    for page in list list-filtered batch-pages queue panel panel-range pdf; do
        log "$2: $page, $WARM + $N requests…"
        time_page "$page" "$WORK/$page" "$jar"
    done
    R[$2.server_errors]=$(grep -ci 'error' "$logs-serve.log" || true)
    stop_servers
    drop_databases
    rm -f "$WORK.db" "$WORK.db-wal" "$WORK.db-shm" "$WORK.db.audit-key"
}

# ---------------------------------------------------------------------------------------------

for tool in jq curl sqlite3 psql; do
    command -v "$tool" >/dev/null || fail "$tool is needed"
done

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "building traza and gen-history (release)…"
(cd "$ROOT" && cargo build --release --quiet -p traza -p traza-bench --bin traza --bin gen-history)
mkdir -p "$BIN"
cp "$BUILT/traza" "$BUILT/gen-history" "$BIN/"

FILE=$DATA/history-$(label "$ROWS" | tr '[:upper:]' '[:lower:]').csv
if [[ ! -s $FILE ]]; then
    log "generating $FILE ($ROWS rows)…"
    "$BIN/gen-history" --rows "$ROWS" --out "$FILE"
fi

bench_backend sqlite SQLite
if psql_admin -c 'SELECT 1' >/dev/null 2>&1; then
    bench_backend postgres PostgreSQL
    PG_VERSION=$(psql_admin -c 'SHOW server_version')
else
    log "PostgreSQL does not answer at $PGURL: skipped"
    PG_VERSION="not reachable at $PGURL, skipped"
fi

# ---------------------------------------------------------------------------------------------
# The report: p50 and p99 per page and backend, the p99 against its target.

row() { # LABEL TARGET-MS NAME
    local b cells=()
    for b in "${BACKENDS[@]}"; do
        local p50=${R[$b.$3.p50]:-} p99=${R[$b.$3.p99]:-} bad=${R[$b.$3.bad]:-0}
        if [[ -z $p99 ]]; then
            cells+=("-")
            continue
        fi
        local verdict
        verdict=$(awk -v v="$p99" -v t="$2" -v bad="$bad" 'BEGIN { print (v + 0 <= t + 0 && bad == 0 ? "ok" : "MISSED") }')
        ((bad == 0)) || verdict="$verdict ($bad non-200)"
        cells+=("$(printf '%8.1f %8.1f %s' "$p50" "$p99" "$verdict")")
    done
    printf '%-34s | %-8s' "$1" "<= $2"
    printf ' | %-26s' "${cells[@]}"
    printf '\n'
}

{
    echo "Traza pages benchmark (issue 16), $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
        "$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "sqlite3 $(sqlite3 --version | cut -d' ' -f1); PostgreSQL $PG_VERSION"
    echo "data: $(basename "$FILE") imported ($ROWS batches) plus one guided batch of $STEPS steps;" \
        "$PAGE_USER logged in through /entrar; $N sequential requests per page after $WARM untimed"
    echo "tree: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown);" \
        "load average at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "import (not a target here): $(for b in "${BACKENDS[@]}"; do printf '%s %s s  ' "$b" "${R[$b.import.secs]}"; done)"
    echo
    printf '%-34s | %-8s' "page (ms)" "p99"
    printf ' | %-26s' "${BACKENDS[@]/%/: p50 p99}"
    printf '\n'
    printf -- '-%.0s' $(seq 1 $((45 + 29 * ${#BACKENDS[@]})))
    printf '\n'
    row "/lotes (first page)" 50 list
    row "/lotes (filtered)" 50 list-filtered
    row "/lotes/{number} (random)" 50 batch-pages
    row "/liberacion" 50 queue
    row "/panel (whole network)" 200 panel
    row "/panel (a date range)" 200 panel-range
    row "/lotes/{guided}/registro.pdf" 200 pdf
    echo
    echo "Times are curl's time_total of each request over one keep-alive connection, with the"
    echo "session cookie; p99 is the nearest rank over the $N timed requests."
    echo "server log lines with 'error': $(for b in "${BACKENDS[@]}"; do printf '%s %s  ' "$b" "${R[$b.server_errors]}"; done)"
} | tee "$DATA/pages-results.txt"
log "(also in $DATA/pages-results.txt; logs in $DATA/pages-*.log)"
