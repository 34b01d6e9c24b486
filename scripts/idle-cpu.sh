#!/usr/bin/env bash
# The whole stack at rest: starts `tillstream up` on private prefixes, lets it settle, then
# counts over a window (60 s unless IDLE_SECONDS says otherwise) the CPU time of every
# tillstream process and every PostgreSQL process, and the transactions PostgreSQL
# committed in the stack's databases. Nothing else should run on the machine meanwhile.
#
#   scripts/idle-cpu.sh [path/to/tillstream [up's arguments, e.g. --replicas 2]]
#   (default target/release/tillstream)
set -euo pipefail

binary=${1:-target/release/tillstream}
window=${IDLE_SECONDS:-60}
run=idle_$$
psql_url=${TILLSTREAM_DATABASE_URL:-postgres://postgres@127.0.0.1:5432}

source "$(dirname "$0")/stack.sh"
stack_log

stack_up "$binary" "$log" "${@:2}"
sleep 10 # the start-up's own work (migrations, streams, first projections) is not idling

# CPU ticks of every process whose command is tillstream or postgres.
ticks() {
    local total=0 pid comm
    for stat in /proc/[0-9]*/stat; do
        read -r pid comm rest <"$stat" 2>/dev/null || continue
        case $comm in
        "(tillstream)" | "(postgres)")
            # Fields 14 and 15 (utime, stime) are the 12th and 13th after the command.
            set -- $rest
            total=$((total + ${12} + ${13}))
            ;;
        esac
    done
    echo "$total"
}
commits() {
    psql "$psql_url/postgres" -Atc \
        "SELECT coalesce(sum(xact_commit + xact_rollback), 0) FROM pg_stat_database WHERE datname LIKE '${run}_%'"
}

hz=$(getconf CLK_TCK)
t0=$(ticks) c0=$(commits)
sleep "$window"
t1=$(ticks) c1=$(commits)
# pg_stat_database is updated by each backend at most every 500 ms (and at its idle
# moments); over a minute the error is a second's worth at most.
awk -v t="$((t1 - t0))" -v hz="$hz" -v w="$window" -v c="$((c1 - c0))" 'BEGIN {
    printf "idle over %d s: %.2f CPU seconds (%.1f%% of one core), %.1f PostgreSQL transactions/s\n",
        w, t / hz, 100 * t / hz / w, c / w
}'
