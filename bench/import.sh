#!/usr/bin/env bash
# The import benchmark of SPEC §7: `traza import batches` of a 1,000,000-row historical file,
# against the yardsticks run on the same machine, in the same run, on the same file:
#
#   SQLite      the sqlite3 shell's `.import --csv` in one transaction (WAL, 64 MiB cache)
#   PostgreSQL  `psql \copy … CSV HEADER`
#
# both into an "equivalent table": the file's columns as TEXT, UNIQUE(batch_number), and
# indexes on donor_code, patient_code and (lab_code, status, manufacturing_start). Also the
# importer's peak RSS on the 1M file and on a 100k file (memory must not grow with the file).
#
# Usage, from anywhere:  bench/import.sh            (1,000,000 rows)
#                        ROWS=200000 bench/import.sh (a quicker run)
# Environment: ROWS, SMALL_ROWS (100000), BACKENDS (sqlite,postgres: which to run), DATA (/tmp/traza-bench, where files and databases
# go), PGURL (postgres://postgres@127.0.0.1:5432; PostgreSQL is skipped if it does not
# answer), TRAZA_USER (lucia.navarro, a coordinator of the demo network).
# Generated files are kept in DATA and reused; delete them to regenerate.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROWS=${ROWS:-1000000}
SMALL_ROWS=${SMALL_ROWS:-100000}
DATA=${DATA:-/tmp/traza-bench}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
TRAZA_USER=${TRAZA_USER:-lucia.navarro}
BACKENDS=${BACKENDS:-sqlite,postgres}
BUILT=${CARGO_TARGET_DIR:-$ROOT/target}/release
# One suffix per run, so that two runs never share a database.
RUN=$$

mkdir -p "$DATA"
DATA=$(cd "$DATA" && pwd)
# The run uses its own copy of the binaries: a build started meanwhile (someone else working
# in the same tree) must not swap them between the runs being compared.
BIN=$DATA/bin-$RUN
TRAZA=$BIN/traza

log() { printf '%s\n' "$*" >&2; }

# "1M", "100k", "250000": how a row count is shown (its file is history-1m.csv, …).
label() {
    case $1 in
        *000000) echo "$(($1 / 1000000))M" ;;
        *000) echo "$(($1 / 1000))k" ;;
        *) echo "$1" ;;
    esac
}
file_for() { local l; l=$(label "$1"); echo "$DATA/history-${l,,}.csv"; }

# Runs a command under /usr/bin/time and sets SECS (elapsed seconds) and RSS (peak resident
# set size in KiB). Standard streams are the caller's to redirect.
timed() {
    local t="$DATA/time.$RUN" status=0
    /usr/bin/time -f '%e %M' -o "$t" "$@" || status=$?
    if ((status != 0)); then
        # time(1) says how it ended ("exited with non-zero status", "terminated by signal").
        head -n 1 "$t" >&2
    fi
    read -r SECS RSS < <(tail -n 1 "$t")
    rm -f "$t"
    return "$status"
}

# Fails the run, showing the log of what failed.
fail() {
    log "FAILED: $1"
    [[ -f ${2:-} ]] && tail -n 30 "$2" >&2
    exit 1
}

# The equivalent table of SPEC §7 for FILE, in SQL both backends read.
equivalent_table() {
    local columns
    columns=$(head -n 1 "$1" | tr -d '\r' |
        awk -F, '{ for (i = 1; i <= NF; i++) printf "%s%s TEXT", (i > 1 ? ", " : ""), $i }')
    cat <<SQL
CREATE TABLE batches ($columns, UNIQUE (batch_number));
CREATE INDEX batches_donor_code ON batches (donor_code);
CREATE INDEX batches_patient_code ON batches (patient_code);
CREATE INDEX batches_lab_status_start ON batches (lab_code, status, manufacturing_start);
SQL
}

rows_per_s() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }

# ---------------------------------------------------------------------------------------------
# SQLite

sqlite_yardstick() { # FILE ROWS
    local db="$DATA/yardstick-$RUN.db" script="$DATA/yardstick-$RUN.sql"
    rm -f "$db" "$db-wal" "$db-shm"
    equivalent_table "$1" | sqlite3 "$db"
    # The sqlite3 shell's dot-commands take the path in double quotes.
    cat >"$script" <<SQL
PRAGMA journal_mode=WAL;
PRAGMA cache_size=-65536;
BEGIN;
.import --csv --skip 1 "$1" batches
COMMIT;
SQL
    timed sqlite3 -bail "$db" <"$script" >"$DATA/yardstick-sqlite.log" 2>&1 ||
        fail "sqlite3 .import" "$DATA/yardstick-sqlite.log"
    local count
    count=$(sqlite3 "$db" 'SELECT count(*) FROM batches')
    [[ $count == "$2" ]] || fail "sqlite3 .import loaded $count rows, not $2"
    rm -f "$db" "$db-wal" "$db-shm" "$script"
}

# Checks Traza's summary: accepted, and every row created.
check_imported() { # LOG ROWS
    grep -q ': imported$' "$1" || fail "traza import refused the file" "$1"
    grep -q "rows $2, created $2, unchanged 0, .*errors 0 " "$1" ||
        fail "traza import did not create $2 rows" "$1"
}

traza_sqlite() { # FILE ROWS NAME
    local db="$DATA/traza-$RUN.db" log="$DATA/traza-sqlite-$3.log"
    local url="sqlite://$db?mode=rwc"
    rm -f "$db" "$db-wal" "$db-shm"
    "$TRAZA" --database-url "$url" fixtures load >"$log" 2>&1 || fail "traza fixtures load" "$log"
    timed "$TRAZA" --database-url "$url" import batches "$1" --user "$TRAZA_USER" >"$log" 2>&1 ||
        fail "traza import (SQLite)" "$log"
    check_imported "$log" "$2"
    rm -f "$db" "$db-wal" "$db-shm"
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL

# Quiet: DROP DATABASE IF EXISTS would print a NOTICE for every fresh database.
psql_admin() { PGOPTIONS='-c client_min_messages=warning' psql "$PGURL/postgres" -v ON_ERROR_STOP=1 -qAt "$@"; }

PG_DATABASES=()
fresh_database() { # NAME
    psql_admin -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
    PG_DATABASES+=("$1")
}

drop_databases() {
    local db
    for db in "${PG_DATABASES[@]}"; do
        psql_admin -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || log "could not drop $db"
    done
    PG_DATABASES=()
}

cleanup() {
    drop_databases
    rm -f "$DATA"/*-"$RUN".db "$DATA"/*-"$RUN".db-wal "$DATA"/*-"$RUN".db-shm \
        "$DATA"/*-"$RUN".sql "$DATA/time.$RUN"
    rm -rf "$BIN"
}
trap cleanup EXIT

pg_yardstick() { # FILE ROWS
    local db="traza_bench_yardstick_$RUN" log="$DATA/yardstick-postgres.log"
    fresh_database "$db"
    equivalent_table "$1" | psql "$PGURL/$db" -v ON_ERROR_STOP=1 -q >/dev/null
    # psql's \copy takes the path in single quotes; a quote inside it is doubled.
    local path=${1//\'/\'\'}
    timed psql "$PGURL/$db" -v ON_ERROR_STOP=1 -qc "\\copy batches FROM '$path' CSV HEADER" \
        >"$log" 2>&1 || fail "psql \\copy" "$log"
    local count
    count=$(psql "$PGURL/$db" -qAtc 'SELECT count(*) FROM batches')
    [[ $count == "$2" ]] || fail "psql \\copy loaded $count rows, not $2"
    drop_databases
}

traza_postgres() { # FILE ROWS NAME
    local db="traza_bench_traza_$RUN" log="$DATA/traza-postgres-$3.log"
    fresh_database "$db"
    "$TRAZA" --database-url "$PGURL/$db" fixtures load >"$log" 2>&1 || fail "traza fixtures load" "$log"
    timed "$TRAZA" --database-url "$PGURL/$db" import batches "$1" --user "$TRAZA_USER" >"$log" 2>&1 ||
        fail "traza import (PostgreSQL)" "$log"
    check_imported "$log" "$2"
    drop_databases
}

# ---------------------------------------------------------------------------------------------

# The machine is shared: how busy it was is part of the result.
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "building traza and gen-history (release)…"
(cd "$ROOT" && cargo build --release --quiet -p traza -p traza-bench --bin traza --bin gen-history)
mkdir -p "$BIN"
cp "$BUILT/traza" "$BUILT/gen-history" "$BIN/"

BIG=$(file_for "$ROWS")
SMALL=$(file_for "$SMALL_ROWS")
for spec in "$ROWS:$BIG" "$SMALL_ROWS:$SMALL"; do
    rows=${spec%%:*} file=${spec#*:}
    if [[ ! -s $file ]]; then
        log "generating $file ($rows rows)…"
        "$BIN/gen-history" --rows "$rows" --out "$file"
    fi
done

BIG_LABEL=$(label "$ROWS")
SMALL_LABEL=$(label "$SMALL_ROWS")
RESULTS=()

# One backend: yardstick and Traza on the big file back to back (the machine is shared and
# noisy, so the two runs being compared are kept close in time), then Traza on the small
# file for the memory comparison.
bench_backend() { # NAME YARDSTICK-FN TRAZA-FN
    local name=$1 y_secs y_rss t_secs t_rss s_rss
    log "$name: yardstick, $BIG_LABEL rows…"
    "$2" "$BIG" "$ROWS"
    y_secs=$SECS y_rss=$RSS
    log "$name: Traza, $BIG_LABEL rows…"
    "$3" "$BIG" "$ROWS" "$BIG_LABEL"
    t_secs=$SECS t_rss=$RSS
    log "$name: Traza, $SMALL_LABEL rows…"
    "$3" "$SMALL" "$SMALL_ROWS" "$SMALL_LABEL"
    s_rss=$RSS
    RESULTS+=("$name $y_secs $(rows_per_s "$ROWS" "$y_secs") $t_secs $(rows_per_s "$ROWS" "$t_secs") $s_rss $t_rss $y_rss")
}

if [[ $BACKENDS == *sqlite* ]]; then
    bench_backend SQLite sqlite_yardstick traza_sqlite
fi
if [[ $BACKENDS != *postgres* ]]; then
    PG_VERSION="not asked for (BACKENDS=$BACKENDS)"
elif psql_admin -c 'SELECT 1' >/dev/null 2>&1; then
    bench_backend PostgreSQL pg_yardstick traza_postgres
    PG_VERSION=$(psql_admin -c 'SHOW server_version')
else
    log "PostgreSQL does not answer at $PGURL: skipped"
    PG_VERSION="not reachable at $PGURL, skipped"
fi

# ---------------------------------------------------------------------------------------------
# The report

{
    echo "Traza import benchmark (SPEC §7), $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
        "$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "sqlite3 $(sqlite3 --version | cut -d' ' -f1); PostgreSQL $PG_VERSION"
    echo "files: $(basename "$BIG") ($ROWS rows, $(du -m "$BIG" | cut -f1) MB)," \
        "$(basename "$SMALL") ($SMALL_ROWS rows)"
    echo "tree: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown);" \
        "load average at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    printf '%s\n' "${RESULTS[@]}" | awk -v small_label="$SMALL_LABEL" -v big_label="$BIG_LABEL" '
        function verdict(ok) { return ok ? "ok" : "MISSED" }
        BEGIN {
            format = "%-10s | %9s %9s | %9s %9s | %6s %-6s | %9s %9s | %6s %-6s | %8s %-6s\n"
            printf format, "", "yardstick", "", "Traza", "", "ratio", "", "Traza RSS", "", "RSS", "", "Traza", ""
            printf format, "backend", "s", "rows/s", "s", "rows/s", ">=0.8", "", small_label, big_label, \
                "<=1.25", "", "peak MiB", "<=128"
            rule = "-----------+---------------------+---------------------+---------------+" \
                "---------------------+---------------+----------------"
            print rule
        }
        {
            ratio = ($3 > 0 ? $5 / $3 : 0)
            rss_ratio = ($6 > 0 ? $7 / $6 : 0)
            peak = ($7 > $6 ? $7 : $6)
            printf format, $1, sprintf("%.1f", $2), $3, sprintf("%.1f", $4), $5, \
                sprintf("%.2f", ratio), verdict(ratio >= 0.8), \
                sprintf("%.0f MiB", $6 / 1024), sprintf("%.0f MiB", $7 / 1024), \
                sprintf("%.2f", rss_ratio), verdict(rss_ratio <= 1.25), \
                sprintf("%.0f", peak / 1024), verdict(peak <= 131072)
            yardstick_rss = yardstick_rss (NR > 1 ? ", " : "") sprintf("%s %.0f MiB", $1, $8 / 1024)
        }
        END {
            print ""
            print "s = seconds elapsed; RSS = peak resident memory of the importing process (the"
            print "Traza CLI, or sqlite3 / psql for the yardsticks; the PostgreSQL server is not counted)."
            print "Yardstick peak RSS: " yardstick_rss
        }'
} | tee "$DATA/results.txt"
log "(also in $DATA/results.txt; logs in $DATA/*.log)"
