#!/usr/bin/env bash
# The HTTP benchmarks of SPEC §7, on a database holding a 1,000,000-row history:
#
#   read    GET /api/v1/batches/{number} with a bearer token, 64 connections, against the
#           yardstick `bare-read` (a bare axum + sqlx endpoint reading the same row by its
#           unique key from the same database) in the same run: ratio >= 0.8, p99 <= 10 ms
#   trace   GET /api/v1/trace/donors/{code} and /trace/patients/{code}: p99 <= 10 ms
#   write   POST /api/v1/batches/{number}/events (each with its audit event), 16 connections:
#           >= 2,000 writes/s on SQLite (PostgreSQL reported)
#   export  GET /api/v1/batches/export.csv of every row: >= 300,000 rows/s, flat memory
#
# on SQLite and on PostgreSQL. Load comes from wrk (installed with apt-get if missing), with
# a random batch number, donor or patient code (from 10,000 picked from the database) per
# request.
#
# Usage, from anywhere:  bench/http.sh
#                        DURATION=10s bench/http.sh     (a quicker run)
# Environment: ROWS (1000000), DATA (/tmp/traza-bench), PGURL
# (postgres://postgres@127.0.0.1:5432; PostgreSQL is skipped if it does not answer),
# DURATION (20s per measurement), WARMUP (15, seconds of reads before the read runs), TRAZA_PORT (18080), BARE_PORT (18091), SAMPLE (10000 keys),
# WRITE_USER / WRITE_LAB (marta.jimenez / GRA-UPCIT, a lab_staff user and her laboratory).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROWS=${ROWS:-1000000}
DATA=${DATA:-/tmp/traza-bench}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
DURATION=${DURATION:-20s}
TRAZA_PORT=${TRAZA_PORT:-18080}
BARE_PORT=${BARE_PORT:-18091}
SAMPLE=${SAMPLE:-10000}
WARMUP=${WARMUP:-15}
IMPORT_USER=${IMPORT_USER:-lucia.navarro}
READ_USER=${READ_USER:-elena.rubio}
WRITE_USER=${WRITE_USER:-marta.jimenez}
WRITE_LAB=${WRITE_LAB:-GRA-UPCIT}
# The small export (memory comparison) covers about this many of the oldest batches.
SMALL_EXPORT=${SMALL_EXPORT:-100000}
EVENT_BODY='{"step":"paso de prueba","performed_at":"2026-11-30T10:00:00Z"}'
BUILT=${CARGO_TARGET_DIR:-$ROOT/target}/release
# One suffix per run, so that two runs never share a database.
RUN=$$

mkdir -p "$DATA"
DATA=$(cd "$DATA" && pwd)
# The run uses its own copy of the binaries: a build started meanwhile (someone else working
# in the same tree) must not swap them between the runs being compared.
BIN=$DATA/bin-$RUN
TRAZA=$BIN/traza
WORK=$DATA/http-$RUN
TRAZA_BASE=http://127.0.0.1:$TRAZA_PORT
BARE_BASE=http://127.0.0.1:$BARE_PORT

source "$ROOT/bench/common.sh"

# ---------------------------------------------------------------------------------------------
# Processes and databases the run owns, undone at the end (also when it fails)

SAMPLER_PID=

cleanup() {
    [[ -n $SAMPLER_PID ]] && kill "$SAMPLER_PID" 2>/dev/null
    stop_servers
    drop_databases
    rm -f "$WORK".db "$WORK".db-wal "$WORK".db-shm "$WORK".db.audit-key
    rm -rf "$BIN" "$WORK"
}
trap cleanup EXIT

# A bearer token for a demo user.
login() { # USER
    local password answer
    password=$(password_of "$1")
    [[ -n $password ]] || fail "no password for $1 in fixtures/network.json"
    answer=$(curl -s -X POST "$TRAZA_BASE/api/v1/auth/login" -H 'content-type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"$password\"}")
    local token
    token=$(sed -n 's/.*"token": *"\([^"]*\)".*/\1/p' <<<"$answer")
    [[ -n $token ]] || fail "login as $1 answered: $answer"
    echo "$token"
}

# ---------------------------------------------------------------------------------------------
# wrk

# Writes a wrk script that requests PREFIX KEY SUFFIX with a random KEY from the file KEYS
# (one a line) per request, and prints one RESULT line at the end. DIAG=1 also prints the
# first non-2xx answers each thread sees (status and body).
make_lua() { # OUT PREFIX SUFFIX KEYS TOKEN [BODY]
    local out=$1 prefix=$2 suffix=$3 keys=$4 token=$5 body=${6:-}
    {
        echo "-- written by bench/http.sh: $prefix{key}$suffix, $(wc -l <"$keys") keys"
        echo 'local keys = {'
        awk '{ printf "\"%s\",\n", $0 }' "$keys"
        echo '}'
        printf 'local prefix, suffix = "%s", "%s"\n' "$prefix" "$suffix"
        [[ -n $token ]] && printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$token"
        if [[ -n $body ]]; then
            echo 'wrk.method = "POST"'
            echo 'wrk.headers["Content-Type"] = "application/json"'
            printf 'wrk.body = [[%s]]\n' "$body"
        fi
        cat <<'LUA'
local threads = 0
function setup(thread)
    threads = threads + 1
    thread:set("thread_number", threads)
end
function init(args)
    math.randomseed(os.time() * 1000 + (thread_number or 0))
end
function request()
    return wrk.format(nil, prefix .. keys[math.random(#keys)] .. suffix)
end
function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "RESULT requests=%d seconds=%.3f non2xx=%d socket_errors=%d p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
        summary.requests, summary.duration / 1e6, e.status, e.connect + e.read + e.write + e.timeout,
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
LUA
        if [[ ${DIAG:-} == 1 ]]; then
            cat <<'LUA'
local shown = 0
function response(status, headers, body)
    if status >= 300 and shown < 5 then
        shown = shown + 1
        io.write(string.format("ANSWER %d %s\n", status, body:sub(1, 400)))
    end
end
LUA
        fi
    } >"$out"
}

# Runs wrk and sets RPS, P50, P99, NON2XX, SOCKERR and REQUESTS from its RESULT line.
run_wrk() { # LOG CONNECTIONS DURATION LUA BASE
    wrk -t2 -c"$2" -d"$3" --latency -s "$4" "$5" >"$1" 2>&1 || fail "wrk" "$1"
    local line
    line=$(sed -n 's/^RESULT //p' "$1")
    [[ -n $line ]] || fail "wrk printed no result" "$1"
    local kv
    declare -gA W=()
    for kv in $line; do W[${kv%%=*}]=${kv#*=}; done
    REQUESTS=${W[requests]} NON2XX=${W[non2xx]} SOCKERR=${W[socket_errors]}
    P50=${W[p50_ms]} P99=${W[p99_ms]}
    RPS=$(awk -v n="$REQUESTS" -v s="${W[seconds]}" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
}

# After a run with non-2xx answers: what they were. A short wrk run with the same load that
# prints the first answers, then each key of the sample requested in turn with curl until one
# fails, which names the exact request.
diagnose() { # NAME CONNECTIONS PREFIX SUFFIX KEYS TOKEN [BODY]
    local name=$1 conns=$2 prefix=$3 suffix=$4 keys=$5 token=$6 body=${7:-}
    local lua=$WORK/$name-diag.lua logfile=$DATA/http-$BACKEND_LABEL-$name-diag.log
    DIAG=1 make_lua "$lua" "$prefix" "$suffix" "$keys" "$token" "$body"
    wrk -t2 -c"$conns" -d5s -s "$lua" "$TRAZA_BASE" >"$logfile" 2>&1 || true
    {
        echo "== $name: first non-2xx answers under load (wrk -c$conns, 5 s):"
        grep '^ANSWER' "$logfile" | sort | uniq -c | head -n 10 || echo "(none this time)"
        echo "== $name: the sample requested one by one with curl (first 300 keys):"
        local key code tried=0 method=GET
        [[ -n $body ]] && method=POST
        while read -r key && ((tried++ < 300)); do
            local args=(-s -o "$WORK/answer" -w '%{http_code}' -H "authorization: Bearer $token")
            [[ -n $body ]] && args+=(-X POST -H 'content-type: application/json' -d "$body")
            code=$(curl "${args[@]}" "$TRAZA_BASE$prefix$key$suffix" || true)
            if [[ $code != 2* ]]; then
                echo "$method $prefix$key$suffix${body:+ $body} -> $code $(head -c 400 "$WORK/answer")"
                break
            fi
        done <"$keys"
    } | tee -a "$DATA/http-errors.txt" >&2
}

# ---------------------------------------------------------------------------------------------
# One backend

declare -A R=()
BACKENDS=()

# Prints rows of a query, one value a line, on the backend under test.
query() { # SQL
    if [[ $BACKEND == sqlite ]]; then
        sqlite3 -bail "$WORK.db" "$1"
    else
        psql "$DB_URL" -v ON_ERROR_STOP=1 -qAt -c "$1"
    fi
}

# Keys safe to put in a URL path unencoded (every code of the generated history is).
pick() { # SQL OUT
    query "$1" | grep -E '^[A-Za-z0-9._~-]+$' >"$2" || true
    [[ -s $2 ]] || fail "no keys for: $1"
}

rss_kib() { awk -v f="$2" '$1 == f ":" { print $2 }' "/proc/$1/status"; }

# Times one export and samples the server's RSS while it runs. Sets EXP_SECS, EXP_BYTES,
# EXP_PEAK (KiB) and checks the answer.
export_run() { # QUERY-STRING TOKEN PID LOG
    local samples=$WORK/rss.txt answer
    rss_kib "$3" VmRSS >"$samples"
    (while :; do
        rss_kib "$3" VmRSS
        sleep 0.05
    done) >>"$samples" 2>/dev/null &
    SAMPLER_PID=$!
    answer=$(curl -s -o /dev/null -w '%{http_code} %{time_total} %{size_download}' \
        "$TRAZA_BASE/api/v1/batches/export.csv$1" -H "authorization: Bearer $2") || true
    kill "$SAMPLER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
    SAMPLER_PID=
    local code
    read -r code EXP_SECS EXP_BYTES <<<"$answer"
    [[ $code == 200 ]] || fail "export$1 answered $code" "$4"
    ! grep -q 'export stopped' "$4" || fail "the export stopped before its end" "$4"
    EXP_PEAK=$(sort -n "$samples" | tail -n 1)
}

bench_backend() { # sqlite|postgres LABEL
    BACKEND=$1 BACKEND_LABEL=$2
    local url bare_url logs=$DATA/http-$2
    BACKENDS+=("$2")
    rm -rf "$WORK"
    mkdir -p "$WORK"
    if [[ $BACKEND == sqlite ]]; then
        rm -f "$WORK.db" "$WORK.db-wal" "$WORK.db-shm"
        url="sqlite://$WORK.db?mode=rwc"
        bare_url="sqlite://$WORK.db?mode=ro"
    else
        local db=traza_bench_http_$RUN
        psql_admin -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
        PG_DATABASES+=("$db")
        url=$PGURL/$db bare_url=$PGURL/$db
    fi
    DB_URL=$url

    log "$2: fixtures and the import of $(basename "$FILE")…"
    "$TRAZA" --database-url "$url" fixtures load >"$logs-fixtures.log" 2>&1 ||
        fail "traza fixtures load" "$logs-fixtures.log"
    "$TRAZA" --database-url "$url" import batches "$FILE" --user "$IMPORT_USER" >"$logs-import.log" 2>&1 ||
        fail "traza import" "$logs-import.log"
    grep -q "rows $ROWS, created $ROWS, " "$logs-import.log" || fail "the import did not create $ROWS rows" "$logs-import.log"
    [[ $BACKEND == postgres ]] && query 'ANALYZE' >/dev/null

    log "$2: picking $SAMPLE keys of each kind…"
    local order="ORDER BY random() LIMIT $SAMPLE"
    pick "SELECT batch_number FROM batches $order" "$WORK/numbers"
    pick "SELECT donor_code FROM (SELECT DISTINCT donor_code FROM batches) d $order" "$WORK/donors"
    pick "SELECT patient_code FROM (SELECT DISTINCT patient_code FROM batches WHERE patient_code IS NOT NULL) p $order" "$WORK/patients"
    pick "SELECT batch_number FROM batches WHERE lab_code = '$WRITE_LAB'
          AND status IN ('in_production', 'quarantine') $order" "$WORK/writable"
    R[$2.writable]=$(wc -l <"$WORK/writable")
    local total small_to small_rows
    total=$(query 'SELECT count(*) FROM batches')
    small_to=$(query "SELECT manufacturing_start FROM batches ORDER BY manufacturing_start LIMIT 1 OFFSET $((SMALL_EXPORT - 1))")
    small_rows=$(query "SELECT count(*) FROM batches WHERE manufacturing_start <= '$small_to'")

    log "$2: starting traza serve and bare-read…"
    start_server "$logs-serve.log" "$TRAZA_BASE/healthz" \
        env TRAZA_BIND="127.0.0.1:$TRAZA_PORT" TRAZA_LOG=warn "$TRAZA" --database-url "$url" serve
    local traza_pid=$STARTED_PID
    start_server "$logs-bare.log" "$BARE_BASE/batches/none" \
        "$BIN/bare-read" --database-url "$bare_url" --bind "127.0.0.1:$BARE_PORT"
    local reader writer
    reader=$(login "$READ_USER")
    writer=$(login "$WRITE_USER")
    # The same row from both, as a check that they read the same database.
    local first
    first=$(head -n 1 "$WORK/numbers")
    [[ $(curl -s -o /dev/null -w '%{http_code}' -H "authorization: Bearer $reader" \
        "$TRAZA_BASE/api/v1/batches/$first") == 200 ]] || fail "Traza does not find $first"
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$BARE_BASE/batches/$first") == 200 ]] ||
        fail "bare-read does not find $first" "$logs-bare.log"

    make_lua "$WORK/read-traza.lua" /api/v1/batches/ "" "$WORK/numbers" "$reader"
    make_lua "$WORK/read-bare.lua" /batches/ "" "$WORK/numbers" ""
    echo >"$WORK/none"
    make_lua "$WORK/me.lua" /api/v1/me "" "$WORK/none" "$reader"
    make_lua "$WORK/donors.lua" /api/v1/trace/donors/ "" "$WORK/donors" "$reader"
    make_lua "$WORK/patients.lua" /api/v1/trace/patients/ "" "$WORK/patients" "$reader"
    make_lua "$WORK/write.lua" /api/v1/batches/ /events "$WORK/writable" "$writer" "$EVENT_BODY"

    # The read measures the steady state of a working set of $SAMPLE batches: each first
    # read of a batch fills Traza's view cache (and both servers' page caches). The cold
    # first pass is measured too, and printed, so that its cost is not hidden.
    log "$2: warming up (${WARMUP}s each; Traza's first pass reported as 'cold')…"
    run_wrk "$logs-warm-traza.log" 64 "${WARMUP}s" "$WORK/read-traza.lua" "$TRAZA_BASE"
    R[$2.cold.rps]=$RPS R[$2.cold.p99]=$P99
    run_wrk "$logs-warm-bare.log" 64 "${WARMUP}s" "$WORK/read-bare.lua" "$BARE_BASE"

    local name
    for name in read-traza read-bare me donors patients; do
        local base=$TRAZA_BASE
        [[ $name == read-bare ]] && base=$BARE_BASE
        log "$2: $name, 64 connections, $DURATION…"
        run_wrk "$logs-$name.log" 64 "$DURATION" "$WORK/$name.lua" "$base"
        R[$2.$name.rps]=$RPS R[$2.$name.p99]=$P99 R[$2.$name.p50]=$P50
        R[$2.$name.bad]=$NON2XX R[$2.$name.sockerr]=$SOCKERR R[$2.$name.count]=$REQUESTS
        if ((NON2XX > 0)); then
            case $name in
                read-traza) diagnose "$name" 64 /api/v1/batches/ "" "$WORK/numbers" "$reader" ;;
                donors) diagnose "$name" 64 /api/v1/trace/donors/ "" "$WORK/donors" "$reader" ;;
                patients) diagnose "$name" 64 /api/v1/trace/patients/ "" "$WORK/patients" "$reader" ;;
            esac
        fi
    done

    log "$2: write, 16 connections, $DURATION…"
    local events_before
    events_before=$(query 'SELECT count(*) FROM batch_events')
    run_wrk "$logs-write.log" 16 "$DURATION" "$WORK/write.lua" "$TRAZA_BASE"
    # Writes that happened: the 2xx answers (a refusal writes nothing).
    R[$2.write.rps]=$(awk -v n="$REQUESTS" -v bad="$NON2XX" -v all="$RPS" \
        'BEGIN { printf "%.0f", (n > 0 ? all * (n - bad) / n : 0) }') R[$2.write.p99]=$P99 R[$2.write.p50]=$P50
    R[$2.write.bad]=$NON2XX R[$2.write.sockerr]=$SOCKERR R[$2.write.count]=$REQUESTS
    R[$2.write.rows]=$(($(query 'SELECT count(*) FROM batch_events') - events_before))
    ((NON2XX == 0)) ||
        diagnose write 16 /api/v1/batches/ /events "$WORK/writable" "$writer" "$EVENT_BODY"

    log "$2: export of $small_rows rows (to $small_to), then of all $total…"
    R[$2.rss.before]=$(rss_kib "$traza_pid" VmRSS) R[$2.hwm.before]=$(rss_kib "$traza_pid" VmHWM)
    export_run "?to=$small_to" "$reader" "$traza_pid" "$logs-serve.log"
    R[$2.small.rows]=$small_rows R[$2.small.secs]=$EXP_SECS R[$2.small.peak]=$EXP_PEAK
    export_run "" "$reader" "$traza_pid" "$logs-serve.log"
    R[$2.export.rows]=$total R[$2.export.secs]=$EXP_SECS R[$2.export.bytes]=$EXP_BYTES
    R[$2.export.peak]=$EXP_PEAK
    R[$2.rss.after]=$(rss_kib "$traza_pid" VmRSS) R[$2.hwm.after]=$(rss_kib "$traza_pid" VmHWM)

    # Anything Traza logged as a server error during the run.
    R[$2.server_errors]=$(grep -ci 'error' "$logs-serve.log" || true)
    stop_servers
    drop_databases
    rm -f "$WORK.db" "$WORK.db-wal" "$WORK.db-shm"
}

# ---------------------------------------------------------------------------------------------

if ! command -v wrk >/dev/null; then
    log "installing wrk…"
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi

# The machine is shared: how busy it was is part of the result.
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "building traza, bare-read and gen-history (release)…"
(cd "$ROOT" && cargo build --release --quiet -p traza -p traza-bench --bin traza --bin bare-read --bin gen-history)
mkdir -p "$BIN"
cp "$BUILT/traza" "$BUILT/bare-read" "$BUILT/gen-history" "$BIN/"

FILE=$DATA/history-$(label "$ROWS" | tr '[:upper:]' '[:lower:]').csv
if [[ ! -s $FILE ]]; then
    log "generating $FILE ($ROWS rows)…"
    "$BIN/gen-history" --rows "$ROWS" --out "$FILE"
fi
rm -f "$DATA/http-errors.txt"

bench_backend sqlite SQLite
if psql_admin -c 'SELECT 1' >/dev/null 2>&1; then
    bench_backend postgres PostgreSQL
    PG_VERSION=$(psql_admin -c 'SHOW server_version')
else
    log "PostgreSQL does not answer at $PGURL: skipped"
    PG_VERSION="not reachable at $PGURL, skipped"
fi

# ---------------------------------------------------------------------------------------------
# The report

# One line of the table: a label, the target, and per backend a value and (with a target) a
# verdict. CHECK is "OP LIMIT" (>=, <= or ==) on the value, "BACKEND:OP LIMIT" for one
# backend only, "OP @KEY" for a limit that is the backend's own figure KEY; empty: no target,
# no verdict.
row() { # LABEL TARGET CHECK KEY FORMAT
    local label=$1 target=$2 key=$4 format=$5 b cells=()
    for b in "${BACKENDS[@]}"; do
        local v check=$3
        if [[ $check == *:* ]]; then
            [[ ${check%%:*} == "$b" ]] && check=${check#*:} || check=
        fi
        v=$(value "$b" "$key")
        # "OP @KEY": the limit is this backend's figure KEY (a limit that depends on the run).
        if [[ $check == *@* ]]; then
            check="${check%%@*}$(value "$b" "${check#*@}")"
        fi
        local cell
        cell=$(awk -v v="$v" -v fmt="$format" -v check="$check" 'BEGIN {
            if (v == "") { print "-"; exit }
            s = sprintf(fmt, v)
            if (check != "") s = s " " (eval_check(check, v) ? "ok" : "MISSED")
            print s
        }
        function eval_check(c, v,   op, limit) {
            split(c, part, " "); op = part[1]; limit = part[2] + 0
            if (op == ">=") return v + 0 >= limit
            if (op == "<=") return v + 0 <= limit
            if (op == "==") return v + 0 == limit
            return 0
        }')
        cells+=("$cell")
    done
    printf '%-36s | %-14s' "$label" "$target"
    printf ' | %16s' "${cells[@]}"
    printf '\n'
}

value() { echo "${R[$1.$2]:-}"; } # BACKEND KEY

# Derived figures.
for b in "${BACKENDS[@]}"; do
    # SPEC §7: a p99 target is met when p99 <= max(target, 1.25 x the bare server's p99 in the
    # same run).
    R[$b.p99.limit10]=$(awk -v p="${R[$b.read-bare.p99]}" 'BEGIN { l = 1.25 * p; printf "%.2f", (l > 10 ? l : 10) }')
    R[$b.p99.limit50]=$(awk -v p="${R[$b.read-bare.p99]}" 'BEGIN { l = 1.25 * p; printf "%.2f", (l > 50 ? l : 50) }')
    R[$b.read.ratio]=$(awk -v t="${R[$b.read-traza.rps]}" -v y="${R[$b.read-bare.rps]}" 'BEGIN { printf "%.3f", (y > 0 ? t / y : 0) }')
    R[$b.write.badpct]=$(awk -v bad="${R[$b.write.bad]}" -v n="${R[$b.write.count]}" 'BEGIN { printf "%.3f", (n > 0 ? 100 * bad / n : 0) }')
    R[$b.read.bad]=$((${R[$b.read-traza.bad]} + ${R[$b.read-bare.bad]} + ${R[$b.me.bad]}))
    R[$b.trace.bad]=$((${R[$b.donors.bad]} + ${R[$b.patients.bad]}))
    R[$b.sockerr]=$((${R[$b.read-traza.sockerr]} + ${R[$b.read-bare.sockerr]} + ${R[$b.me.sockerr]} +
        ${R[$b.donors.sockerr]} + ${R[$b.patients.sockerr]} + ${R[$b.write.sockerr]}))
    R[$b.export.rps]=$(awk -v n="${R[$b.export.rows]}" -v s="${R[$b.export.secs]}" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
    R[$b.small.rps]=$(awk -v n="${R[$b.small.rows]}" -v s="${R[$b.small.secs]}" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
    # Growth of the resident set during each export, over the resident set before the first.
    R[$b.small.growth]=$(((${R[$b.small.peak]} - ${R[$b.rss.before]}) / 1024))
    R[$b.export.growth]=$(((${R[$b.export.peak]} - ${R[$b.rss.before]}) / 1024))
    R[$b.mem.ratio]=$(awk -v s="${R[$b.small.peak]}" -v l="${R[$b.export.peak]}" 'BEGIN { printf "%.3f", (s > 0 ? l / s : 0) }')
    for k in rss.before hwm.before rss.after hwm.after export.peak small.peak; do
        R[$b.$k.mib]=$((${R[$b.$k]} / 1024))
    done
done

{
    echo "Traza HTTP benchmark (SPEC §7), $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
        "$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "sqlite3 $(sqlite3 --version | cut -d' ' -f1); PostgreSQL $PG_VERSION; $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)"
    echo "data: $(basename "$FILE") imported ($ROWS batches); $SAMPLE random keys of each kind;" \
        "wrk -t2, $DURATION per measurement"
    echo "tree: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown);" \
        "load average at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    printf '%-36s | %-14s' "" "target"
    printf ' | %16s' "${BACKENDS[@]}"
    printf '\n'
    printf -- '-%.0s' $(seq 1 $((54 + 19 * ${#BACKENDS[@]})))
    printf '\n'
    row "read, Traza req/s (-c64)" "" "" read-traza.rps "%.0f"
    row "read, bare axum+sqlx req/s (-c64)" "" "" read-bare.rps "%.0f"
    row "read, ratio Traza / bare" ">= 0.8" ">= 0.8" read.ratio "%.2f"
    row "read, Traza p99 ms" "<= 10 *" "<= @p99.limit10" read-traza.p99 "%.2f"
    row "read, bare p99 ms" "" "" read-bare.p99 "%.2f"
    row "read, Traza cold first pass req/s" "" "" cold.rps "%.0f"
    row "read, Traza cold first pass p99 ms" "" "" cold.p99 "%.2f"
    row "GET /me (token only) req/s" "" "" me.rps "%.0f"
    row "GET /me p99 ms" "" "" me.p99 "%.2f"
    row "read, non-2xx answers" "0" "== 0" read.bad "%d"
    row "trace donors req/s (-c64)" "" "" donors.rps "%.0f"
    row "trace donors p99 ms" "<= 10 *" "<= @p99.limit10" donors.p99 "%.2f"
    row "trace patients req/s (-c64)" "" "" patients.rps "%.0f"
    row "trace patients p99 ms" "<= 10 *" "<= @p99.limit10" patients.p99 "%.2f"
    row "trace, non-2xx answers" "0" "== 0" trace.bad "%d"
    row "write events/s (-c16, 2xx only)" ">= 2000 SQLite" "SQLite:>= 2000" write.rps "%.0f"
    row "write p99 ms" "<= 50 *" "<= @p99.limit50" write.p99 "%.2f"
    row "write, non-2xx share %" "0" "== 0" write.badpct "%.2f"
    row "write, events stored" "" "" write.rows "%d"
    row "write, batches picked" "" "" writable "%d"
    row "export rows/s (all rows)" ">= 300000" ">= 300000" export.rps "%.0f"
    row "export s (all rows)" "" "" export.secs "%.2f"
    row "export rows/s (small)" "" "" small.rps "%.0f"
    row "RSS MiB before exports" "" "" rss.before.mib "%d"
    row "RSS MiB peak, small export" "" "" small.peak.mib "%d"
    row "RSS MiB peak, full export" "" "" export.peak.mib "%d"
    row "RSS peak ratio full / small" "<= 1.25" "<= 1.25" mem.ratio "%.2f"
    row "RSS MiB after exports" "" "" rss.after.mib "%d"
    row "VmHWM MiB before exports" "" "" hwm.before.mib "%d"
    row "VmHWM MiB after exports" "" "" hwm.after.mib "%d"
    row "socket errors (all runs)" "0" "== 0" sockerr "%d"
    row "server log lines with 'error'" "0" "== 0" server_errors "%d"
    echo
    echo "export size: $(for b in "${BACKENDS[@]}"; do printf '%s %.0f MB  ' "$b" "$(awk -v n="${R[$b.export.bytes]}" 'BEGIN { print n / 1e6 }')"; done)"
    echo "* SPEC §7: a p99 target is met when p99 <= max(target, 1.25 x the bare server's p99 in"
    echo "  the same run): here $(for b in "${BACKENDS[@]}"; do printf '%s %s / %s ms  ' "$b" "${R[$b.p99.limit10]}" "${R[$b.p99.limit50]}"; done)"
    echo "req/s and p99 from wrk (-t2 --latency); the bare server reads the same database with"
    echo "sqlx, no token, no middleware; GET /me is Traza's token check and middleware alone."
    echo "The write target (2,000/s) is SQLite's; PostgreSQL's write figure is reported only."
    echo "RSS is the traza serve process's, sampled every 50 ms during each export; the small"
    echo "export is the oldest ~$SMALL_EXPORT batches (?to=), for the memory ratio."
    echo "wrk counts a request unanswered after 2 s as a socket error (timeout), and leaves it"
    echo "out of the latencies."
    for b in "${BACKENDS[@]}"; do
        for name in read-traza read-bare me donors patients write; do
            if ((${R[$b.$name.sockerr]} > 0)); then
                echo "socket errors: $b $name ${R[$b.$name.sockerr]} ($(grep -m1 'Socket errors' \
                    "$DATA/http-$b-$name.log" | sed 's/^ *Socket errors: //'))"
            fi
        done
    done
    if [[ -s $DATA/http-errors.txt ]]; then
        echo "non-2xx answers were seen: see $DATA/http-errors.txt"
    fi
} | tee "$DATA/http-results.txt"
log "(also in $DATA/http-results.txt; logs in $DATA/http-*.log)"
