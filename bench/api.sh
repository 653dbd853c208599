#!/usr/bin/env bash
# The request path's speed as a share of the database's own: each API path driven by wrk against
# the release binary, interleaved round by round with pgbench running the same SQL on the same
# database (the app's own tables, keys and indexes), so a noisy machine moves both alike. Prints
# each round, the median ratio per path, SQLite beside PostgreSQL, and the server's peak RSS.
#
#   bash bench/api.sh                       # 16 connections, 3 rounds of 10 s per path
#   CONNECTIONS=8 ROUNDS=5 SECONDS_PER_ROUND=20 bash bench/api.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CONNECTIONS=${CONNECTIONS:-16}
ROUNDS=${ROUNDS:-3}
SECONDS_PER_ROUND=${SECONDS_PER_ROUND:-10}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

cargo build --quiet --release --locked -p circulo-api --bin circulo
bin=$PWD/target/release/circulo
work=$(mktemp -d)
bench_db="circulo_bench_$$"
pg_url="${PG_ADMIN_URL%/*}/$bench_db"
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $bench_db WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
export CIRCULO_JWT_SECRET RUST_LOG=warn
CIRCULO_JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $bench_db" >/dev/null

json() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }

# Starts the server on $1 and sets base, org, token, team, server; seeds 200 members to list.
start_server() {
    local url=$1 port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    CIRCULO_DATABASE_URL=$url "$bin" serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
    server=$!
    base="http://127.0.0.1:$port"
    for _ in $(seq 1 100); do curl -fsS "$base/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
    org=$(CIRCULO_DATABASE_URL=$url "$bin" org create --name Bench | json id)
    token=$(CIRCULO_DATABASE_URL=$url "$bin" token --org "$org" --role owner --ttl-seconds 36000)
    team=$(curl -fsS -X POST "$base/v1/teams" -H "Authorization: Bearer $token" \
        -H 'Content-Type: application/json' -d '{"name": "Bench"}' | json id)
    for i in $(seq 1 200); do
        curl -fsS -o /dev/null -X POST "$base/v1/members" -H "Authorization: Bearer $token" \
            -H 'Content-Type: application/json' -d "{\"display_name\": \"Seed $i\", \"role\": \"staff\"}"
    done
}

stop_server() {
    rss_kib=$(awk '/VmHWM/ { print $2 }' "/proc/$server/status")
    kill "$server"; wait "$server" 2>/dev/null || true; server=""
}

cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"display_name": "Bench", "role": "staff"}'
LUA

# wrk against one path; prints requests per second (non-2xx answers count as failures).
api_round() {
    local path=$1 script=${2:-}
    local args=(-t 2 -c "$CONNECTIONS" -d "${SECONDS_PER_ROUND}s" -H "Authorization: Bearer $token")
    [ -n "$script" ] && args+=(-s "$script")
    wrk "${args[@]}" "$base$path" >"$work/wrk.out"
    if grep -q "Non-2xx" "$work/wrk.out"; then cat "$work/wrk.out" >&2; exit 1; fi
    awk '/Requests\/sec/ { printf "%.0f", $2 }' "$work/wrk.out"
}

# pgbench with the same SQL; prints transactions per second.
pg_round() {
    pgbench -n -M prepared -c "$CONNECTIONS" -j 2 -T "$SECONDS_PER_ROUND" -D org="$org" -D team="$team" \
        -f "$work/$1.sql" "$pg_url" 2>/dev/null | awk '/^tps/ { printf "%.0f", $3 }'
}

# The statements the API runs for each path (org existence is cached; an owner token names no
# member, so no member lookup): a read by primary key, a page of 51 rows, and a creation's
# transaction with its audit entry. (No ":" right before a name in the literals:
# pgbench would read it as a variable.)
cat >"$work/get.sql" <<'SQL'
SELECT org_id, id, name, lead_member_id, version, created_at, updated_at FROM teams WHERE org_id = :org AND id = :team;
SQL
cat >"$work/list.sql" <<'SQL'
SELECT org_id, id, external_id, display_name, email, role, team_id, manager_id, strengths, active, version, created_at, updated_at
    FROM members WHERE org_id = :org ORDER BY id LIMIT 51;
SQL
cat >"$work/create.sql" <<'SQL'
BEGIN;
INSERT INTO members (org_id, id, external_id, display_name, email, role, team_id, manager_id, strengths, active, version, created_at, updated_at)
    VALUES (:org, gen_random_uuid()::text, NULL, 'Bench', NULL, 'staff', NULL, NULL, '[]', true, 1, now(), now());
INSERT INTO audit_events (org_id, id, occurred_at, actor_role, actor_subject, action, entity_type, entity_id, request_id, changes, feed_after)
    VALUES (:org, gen_random_uuid()::text, now(), 'owner', 'owner', 'member.created', 'member', 'x', 'r',
            '{"id": "x", "external_id": null, "display_name": "Bench", "email": null, "role": "staff", "team_id": null, "manager_id": null, "strengths": [], "active": true, "version": 1}', now());
COMMIT;
SQL

paths=("get:GET /v1/teams/{id}" "list:GET /v1/members?limit=50" "create:POST /v1/members")
api_path() {
    case $1 in
        get) echo "/v1/teams/$team" ;;
        list) echo "/v1/members?limit=50" ;;
        create) echo "/v1/members" ;;
    esac
}
api_script() { [ "$1" = create ] && echo "$work/post.lua" || true; }

declare -A pg_ratios sqlite_rps pg_rps
printf '%-9s %-26s %5s %10s %10s %7s\n' backend path round api_req/s pgbench/s ratio
start_server "$pg_url"
for entry in "${paths[@]}"; do
    name=${entry%%:*}
    for round in $(seq 1 "$ROUNDS"); do
        tps=$(pg_round "$name")
        rps=$(api_round "$(api_path "$name")" "$(api_script "$name")")
        ratio=$(python3 -c "print(f'{$rps / $tps:.2f}')")
        printf '%-9s %-26s %5s %10s %10s %7s\n' postgres "${entry#*:}" "$round" "$rps" "$tps" "$ratio"
        pg_ratios[$name]+="$ratio "
        pg_rps[$name]+="$rps "
    done
done
stop_server
pg_rss=$rss_kib

start_server "sqlite://$work/bench.db"
for entry in "${paths[@]}"; do
    name=${entry%%:*}
    for round in $(seq 1 "$ROUNDS"); do
        rps=$(api_round "$(api_path "$name")" "$(api_script "$name")")
        printf '%-9s %-26s %5s %10s\n' sqlite "${entry#*:}" "$round" "$rps"
        sqlite_rps[$name]+="$rps "
    done
done
stop_server
sqlite_rss=$rss_kib

median() { python3 -c "import statistics,sys; print(f\"{statistics.median(float(x) for x in sys.argv[1:]):.2f}\")" $1; }
echo
printf '%-26s %16s %14s %14s\n' path "PG ratio (med)" "PG req/s" "SQLite req/s"
for entry in "${paths[@]}"; do
    name=${entry%%:*}
    printf '%-26s %16s %14.0f %14.0f\n' "${entry#*:}" "$(median "${pg_ratios[$name]}")" \
        "$(median "${pg_rps[$name]}")" "$(median "${sqlite_rps[$name]}")"
done
printf '\npeak RSS: PostgreSQL run %d MiB, SQLite run %d MiB\n' $((pg_rss / 1024)) $((sqlite_rss / 1024))
