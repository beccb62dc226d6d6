# Helpers the benchmark scripts share (sourced, not run). The sourcing script sets PGURL
# before it uses psql_admin, and ROOT (the repository) before password_of.

log() { printf '%s\n' "$*" >&2; }

# Fails the run, showing the log of what failed.
fail() {
    log "FAILED: $1"
    [[ -f ${2:-} ]] && tail -n 30 "$2" >&2
    exit 1
}

# "1M", "100k", "250000": how a row count is shown (its file is history-1m.csv, …).
label() {
    case $1 in
        *000000) echo "$(($1 / 1000000))M" ;;
        *000) echo "$(($1 / 1000))k" ;;
        *) echo "$1" ;;
    esac
}

# A demo user's password, from the network the fixtures load.
password_of() {
    awk -v user="\"$1\"" '
        $0 ~ "\"username\": *" user { found = 1 }
        found && /"password":/ { sub(/.*"password": *"/, ""); sub(/".*/, ""); print; exit }
    ' "$ROOT/fixtures/network.json"
}

# Quiet: DROP DATABASE IF EXISTS would print a NOTICE for every fresh database.
psql_admin() { PGOPTIONS='-c client_min_messages=warning' psql "$PGURL/postgres" -v ON_ERROR_STOP=1 -qAt "$@"; }

# PostgreSQL databases the run made, dropped by drop_databases (the script's cleanup).
PG_DATABASES=()

drop_databases() {
    local db
    for db in "${PG_DATABASES[@]}"; do
        psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || log "could not drop $db"
    done
    PG_DATABASES=()
}

# Servers the run started, stopped by stop_servers (the script's cleanup).
SERVER_PIDS=()

stop_servers() {
    local pid
    for pid in "${SERVER_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    SERVER_PIDS=()
}

# Starts a server in the background (its output to LOG), waits until URL answers, and sets
# STARTED_PID.
start_server() { # LOG URL COMMAND...
    local logfile=$1 url=$2
    shift 2
    "$@" >"$logfile" 2>&1 &
    local pid=$!
    SERVER_PIDS+=("$pid")
    local i
    for ((i = 0; i < 240; i++)); do
        kill -0 "$pid" 2>/dev/null || fail "$(basename "$logfile") exited" "$logfile"
        # Any HTTP answer (bare-read answers 404 for an unknown number) means it is up.
        if [[ $(curl -s -o /dev/null -w '%{http_code}' "$url" || true) != 000 ]]; then
            STARTED_PID=$pid
            return
        fi
        sleep 0.5
    done
    fail "$(basename "$logfile") did not answer at $url" "$logfile"
}
