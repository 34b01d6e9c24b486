# Shared by the measuring scripts (source it): a stack of `tillstream up` on prefixes of its
# own, started, waited for and removed with its databases and streams.
#
#   run=<prefix> psql_url=<server> source scripts/stack.sh

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# stack_log: a file for `up`'s output in $log; the stack and the file removed on exit.
stack_log() {
    log=$(mktemp)
    trap 'stack_down; rm -f "$log"' EXIT
}

# stack_up <binary> <log> [up's arguments]: starts `up` in the background (its pid in
# $up_pid, its gateway in $http) and waits for its ready line.
stack_up() {
    local binary=$1 log=$2
    shift 2
    http=127.0.0.1:$(free_port)
    TILLSTREAM_DB_PREFIX=$run TILLSTREAM_SUBJECT_PREFIX=$run \
        TILLSTREAM_HTTP_ADDR=$http TILLSTREAM_GRPC_ADDR=127.0.0.1:$(free_port) \
        TILLSTREAM_RATE_LIMIT_USER_RPS=0 TILLSTREAM_RATE_LIMIT_ADDR_RPS=0 \
        RUST_LOG=warn "$binary" up "$@" >"$log" 2>&1 &
    up_pid=$!
    for _ in $(seq 120); do
        grep -q "ready in" "$log" && return 0
        sleep 0.5
    done
    cat "$log"
    echo "the stack did not get ready" >&2
    return 1
}

# stack_down: stops `up` and removes the run's databases and JetStream streams (over NATS's
# text protocol, so no client is needed).
stack_down() {
    [[ -n ${up_pid:-} ]] && kill "$up_pid" 2>/dev/null && wait "$up_pid" 2>/dev/null
    for db in $(psql "$psql_url/postgres" -Atc "SELECT datname FROM pg_database WHERE datname LIKE '${run}_%'"); do
        psql "$psql_url/postgres" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
    done
    {
        printf 'CONNECT {"verbose":false}\r\n'
        for stream in auth catalog inventory sales ledger webhooks dlq; do
            printf 'PUB $JS.API.STREAM.DELETE.%s_%s 0\r\n\r\n' "$run" "$stream"
        done
        printf 'PING\r\n'
        sleep 1
    } | timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/4222; cat >&3' || true
}
