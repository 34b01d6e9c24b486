#!/usr/bin/env bash
# `tillstream bench` against a stack of its own: starts `tillstream up` on prefixes of its
# own, runs the bench with the arguments given, prints its JSON report on stdout (its
# summary on stderr), and removes the stack's databases and streams.
#
#   scripts/bench-stack.sh [path/to/tillstream] [bench arguments]
#   UP_ARGS="--replicas 2" scripts/bench-stack.sh target/release/tillstream --tills 16 --rate 100
set -euo pipefail

binary=target/release/tillstream
if [[ -n ${1:-} && ${1:-} != -* ]]; then
    binary=$1
    shift
fi
run=bench_$$
psql_url=${TILLSTREAM_DATABASE_URL:-postgres://postgres@127.0.0.1:5432}
password=bench-stack-admin-1

source "$(dirname "$0")/stack.sh"
stack_log

export TILLSTREAM_DB_PREFIX=$run TILLSTREAM_SUBJECT_PREFIX=$run TILLSTREAM_ADMIN_PASSWORD=$password
# shellcheck disable=SC2086 # UP_ARGS is a list of words
stack_up "$binary" "$log" ${UP_ARGS:-}
"$binary" bench --url "http://$http" "$@"
