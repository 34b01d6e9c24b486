#!/usr/bin/env bash
# Work per sale: starts `tillstream up` on prefixes of its own, rings sales up with
# `tillstream bench` (its store set up first), waits until the stack is at rest, and divides
# what PostgreSQL and NATS did from the first sale on (transactions, rows written, messages
# stored, per database and per stream) by the sales accepted. Nothing else should run.
#
#   scripts/work-per-sale.sh [path/to/tillstream [bench arguments]]
#   (default target/release/tillstream; bench: --tills 16 --seconds 20, flat out)
set -euo pipefail

binary=${1:-target/release/tillstream}
shift || true
bench_args=("$@")
[[ ${#bench_args[@]} -gt 0 ]] || bench_args=(--tills 16 --seconds 20)
run=work_$$
psql_url=${TILLSTREAM_DATABASE_URL:-postgres://postgres@127.0.0.1:5432}
password=work-per-sale-admin-1
log=$(mktemp) report=$(mktemp) bench_log=$(mktemp)

source "$(dirname "$0")/stack.sh"
cleanup() {
    stack_down
    rm -f "$log" "$report" "$bench_log"
}
trap cleanup EXIT

# The bench and `tillstream streams` address the same stack as `up`.
export TILLSTREAM_DB_PREFIX=$run TILLSTREAM_SUBJECT_PREFIX=$run TILLSTREAM_ADMIN_PASSWORD=$password
stack_up "$binary" "$log"

# Per database: transactions, rows written. Per stream: messages.
databases() {
    psql "$psql_url/postgres" -Atc "SELECT substr(datname, length('$run') + 2),
        xact_commit + xact_rollback, tup_inserted + tup_updated + tup_deleted
        FROM pg_stat_database WHERE datname LIKE '${run}_%' ORDER BY 1"
}
streams() {
    "$binary" streams 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    row = json.loads(line)
    if "messages" in row and "stream" in row:
        print(row["stream"].split("_")[-1], row["messages"], row["bytes"])
' | sort
}

"$binary" bench --url "http://$http" --no-watch "${bench_args[@]}" >"$report" 2>"$bench_log" &
bench_pid=$!
for _ in $(seq 600); do
    grep -q " tills at " "$bench_log" && break
    sleep 0.2
done
sleep 0.6 # pg_stat_database lags by up to 500 ms
db0=$(databases) st0=$(streams)
wait "$bench_pid"
# At rest: no row written and no message stored for 6 s running.
last="" same=0
while ((same < 3)); do
    sleep 2
    now="$(databases | cut -d'|' -f1,3)$(streams)"
    if [[ $now == "$last" ]]; then same=$((same + 1)); else same=0; fi
    last=$now
done
db1=$(databases) st1=$(streams)

sales=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sales_accepted"])' "$report")
echo "sales accepted: $sales (bench: ${bench_args[*]})"
python3 - "$sales" "$db0" "$db1" "$st0" "$st1" <<'EOF'
import sys
sales = int(sys.argv[1])
def table(text, columns):
    rows = {}
    for line in text.splitlines():
        parts = line.replace("|", " ").split()
        if len(parts) == columns + 1:
            rows[parts[0]] = [int(p) for p in parts[1:]]
    return rows
db0, db1 = table(sys.argv[2], 2), table(sys.argv[3], 2)
st0, st1 = table(sys.argv[4], 2), table(sys.argv[5], 2)
print("| database | transactions / sale | rows written / sale |")
print("|---|---|---|")
for name in sorted(db1):
    a, b = db0.get(name, [0, 0]), db1[name]
    print(f"| {name} | {(b[0] - a[0]) / sales:.2f} | {(b[1] - a[1]) / sales:.2f} |")
print()
print("| stream | messages / sale | bytes / sale |")
print("|---|---|---|")
total = [0, 0]
for name in sorted(st1):
    a, b = st0.get(name, [0, 0]), st1[name]
    d = [b[0] - a[0], b[1] - a[1]]
    total = [total[0] + d[0], total[1] + d[1]]
    print(f"| {name} | {d[0] / sales:.2f} | {d[1] / sales:.0f} |")
print(f"| all | {total[0] / sales:.2f} | {total[1] / sales:.0f} |")
EOF
