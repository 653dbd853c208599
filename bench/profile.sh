#!/usr/bin/env bash
# Where the server's CPU goes on one path: a release build with frame pointers, on PostgreSQL,
# driven by wrk at 16 connections while `perf record` samples the server (kernel included).
# Prints the share per binary/library and the top functions (self time), then a call-graph
# summary grouped as bench/README.md reports it.
#
#   bash bench/profile.sh get      # GET /v1/teams/{id}     (also: list, create, decide)
set -euo pipefail
cd "$(dirname "$0")/.."
path_name=${1:-get}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-15}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
command -v perf >/dev/null || { apt-get update -qq && apt-get install -y -qq linux-perf >/dev/null; }
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

RUSTFLAGS="-C force-frame-pointers=yes" CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
    cargo build --quiet --release --locked -p circulo-api --bin circulo --target-dir target-prof
bin=$PWD/target-prof/release/circulo
work=$(mktemp -d)
db="circulo_profile_$$"
url="${PG_ADMIN_URL%/*}/$db"
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
export RUST_LOG=warn CIRCULO_JWT_SECRET
CIRCULO_JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $db" >/dev/null
json() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
CIRCULO_DATABASE_URL=$url "$bin" serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -fsS "$base/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
org=$(CIRCULO_DATABASE_URL=$url "$bin" org create --name Profile | json id)
token=$(CIRCULO_DATABASE_URL=$url "$bin" token --org "$org" --role owner --ttl-seconds 3600)
team=$(curl -fsS -X POST "$base/v1/teams" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d '{"name": "Profile"}' | json id)
for i in $(seq 1 60); do
    curl -fsS -o /dev/null -X POST "$base/v1/members" -H "Authorization: Bearer $token" \
        -H 'Content-Type: application/json' -d "{\"display_name\": \"Seed $i\", \"role\": \"staff\"}"
done
cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"display_name": "Profile", "role": "staff"}'
LUA
# A cashier with a grant that covers every decision, for POST /v1/decisions as a POS calls it.
cashier=$(curl -fsS -X POST "$base/v1/members" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d '{"display_name": "Cashier", "role": "staff"}' | json id)
curl -fsS -o /dev/null -X POST "$base/v1/delegations" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"delegate_member_id\": \"$cashier\", \"action\": \"refund\", \"currency\": \"EUR\", \"per_decision_limit_minor\": 100,
         \"budget_minor\": 1000000000000, \"budget_period\": \"total\", \"rationale\": \"profile\"}"
pos=$(CIRCULO_DATABASE_URL=$url "$bin" token --org "$org" --role integration --sub pos --scope decisions:write --ttl-seconds 3600)
cat >"$work/decide.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"member_id": "$cashier", "action": "refund", "amount_minor": 100, "currency": "EUR", "client_ref": "POS-1", "touchpoint": "pos"}'
LUA
args=(-t 2 -c 16 -d "${SECONDS_PER_RUN}s" -H "Authorization: Bearer $token")
case $path_name in
    get) target="$base/v1/teams/$team" ;;
    list) target="$base/v1/members?limit=50" ;;
    create) target="$base/v1/members"; args+=(-s "$work/post.lua") ;;
    decide)
        target="$base/v1/decisions"
        args=(-t 2 -c 16 -d "${SECONDS_PER_RUN}s" -H "Authorization: Bearer $pos" -s "$work/decide.lua")
        ;;
    *) echo "unknown path $path_name (get, list, create, decide)" >&2; exit 2 ;;
esac

wrk "${args[@]}" "$target" >"$work/wrk.out" &
load=$!
sleep 2
perf record -q -F 499 -g -e cpu-clock -p "$server" -o "$work/perf.data" -- sleep $((SECONDS_PER_RUN - 4)) 2>/dev/null
wait "$load"
grep "Requests/sec" "$work/wrk.out"

echo; echo "== share of server samples by binary"
perf report -i "$work/perf.data" --no-children --sort dso --stdio 2>/dev/null | awk '/^ +[0-9]/ && n++ < 8'
echo; echo "== top functions (self)"
perf report -i "$work/perf.data" --no-children --sort sym --stdio 2>/dev/null | awk '/^ +[0-9]/ && n++ < 25'
echo; echo "== share of server samples by thread (actix workers answer HTTP; blocking threads run queries)"
perf report -i "$work/perf.data" --no-children --sort comm --stdio 2>/dev/null | awk '/^ +[0-9]/ && n++ < 6'
echo; echo "== share of samples whose stack passes through each frame (they overlap)"
perf script -i "$work/perf.data" -F comm,ip,sym 2>/dev/null | python3 -c '
import sys
frames = [
    ("finish_task_switch", "switching threads (kernel scheduler)"),
    ("futex", "futex waits and wake-ups (the hop to the blocking pool and back)"),
    ("tcp_sendmsg", "loopback TCP sends (HTTP answers, queries)"),
    ("tcp_recvmsg", "loopback TCP receives"),
    ("epoll_wait", "epoll"),
    ("PQ", "libpq (send query, read result)"),
    ("SSL_", "TLS to PostgreSQL (libssl; pgbench pays it too)"),
    ("diesel::", "diesel (query building, row decoding)"),
    ("regex_lite", "route matching (regex_lite)"),
    ("serde_json", "JSON"),
    ("malloc", "malloc"),
]
total = 0; hits = {f: 0 for f, _ in frames}; stack = []
def flush():
    global total
    if stack:
        total += 1
        text = "\n".join(stack)
        for f, _ in frames:
            if f in text: hits[f] += 1
for line in sys.stdin:
    if not line.strip():
        flush(); stack.clear()
    else:
        stack.append(line)
flush()
for f, label in frames:
    print(f"{100 * hits[f] / max(total, 1):5.1f}%  {label}")
'
