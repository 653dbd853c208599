#!/usr/bin/env bash
# Throughput and latency of the API's write and read paths on SQLite and PostgreSQL, measured with
# hey against the release binary, printed beside pgbench running the same SQL straight against
# PostgreSQL (the database's own limit on this machine).
#
#   bash bench/api.sh                 # 10 s per run, 8 concurrent clients
#   DURATION=30s CLIENTS=16 bash bench/api.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CLIENTS=${CLIENTS:-8}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
command -v hey >/dev/null || { apt-get update -qq && apt-get install -y -qq hey >/dev/null; }

cargo build --quiet --release --locked -p circulo-api --bin circulo
bin=$PWD/target/release/circulo
work=$(mktemp -d)
bench_db="circulo_bench_$$"
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $bench_db WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
export CIRCULO_JWT_SECRET
CIRCULO_JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
export RUST_LOG=warn CIRCULO_WORKERS=2
pg_url="${PG_ADMIN_URL%/*}/$bench_db"
psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $bench_db" >/dev/null

# Runs hey and prints "req/s p50_ms p99_ms non-2xx".
measure() {
    hey -z "$DURATION" -c "$CLIENTS" "$@" | awk '
        /Requests\/sec/ { rps = $2 }
        /50%+ in/ { p50 = $3 * 1000 }
        /99%+ in/ { p99 = $3 * 1000 }
        /^\s*\[[0-9]+\]/ { code = substr($1, 2, 3); if (code !~ /^2/) bad += $2 }
        END { printf "%10.0f %8.2f %8.2f %7d\n", rps, p50, p99, bad }'
}

printf '%-9s %-34s %10s %8s %8s %7s\n' backend path req/s p50_ms p99_ms non2xx
for backend in sqlite postgres; do
    case $backend in
        sqlite) url="sqlite://$work/bench.db" ;;
        postgres) url="$pg_url" ;;
    esac
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    CIRCULO_DATABASE_URL=$url "$bin" serve --bind "127.0.0.1:$port" >"$work/$backend.log" 2>&1 &
    server=$!
    for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
    org=$(CIRCULO_DATABASE_URL=$url "$bin" org create --name Bench | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    token=$(CIRCULO_DATABASE_URL=$url "$bin" token --org "$org" --role owner --ttl-seconds 3600)
    base="http://127.0.0.1:$port"
    team=$(curl -fsS -X POST "$base/v1/teams" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        -d '{"name": "Bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    auth=(-H "Authorization: Bearer $token")
    printf '%-9s %-34s ' "$backend" "POST /v1/members"
    measure -m POST "${auth[@]}" -T application/json -d '{"display_name": "Bench", "role": "staff"}' "$base/v1/members"
    printf '%-9s %-34s ' "$backend" "GET /v1/members?limit=50"
    measure "${auth[@]}" "$base/v1/members?limit=50"
    printf '%-9s %-34s ' "$backend" "GET /v1/teams/{id}"
    measure "${auth[@]}" "$base/v1/teams/$team"
    kill "$server"; wait "$server" 2>/dev/null || true; server=""
    [ "$backend" = postgres ] && pg_org=$org && pg_team=$team
done

# The same statements the API runs, without HTTP, JSON or the pool: PostgreSQL's own ceiling.
cat >"$work/insert.sql" <<'SQL'
BEGIN;
INSERT INTO members (org_id, id, display_name, role, strengths, active, version, created_at, updated_at)
    VALUES (:org, gen_random_uuid()::text, 'Bench', 'staff', '[]', true, 1, now(), now());
INSERT INTO audit_events (org_id, id, occurred_at, actor_role, actor_subject, action, entity_type, entity_id, changes)
    VALUES (:org, gen_random_uuid()::text, now(), 'owner', 'owner', 'member.created', 'member', 'x', '{}');
COMMIT;
SQL
echo "SELECT * FROM members WHERE org_id = :org ORDER BY id LIMIT 51;" >"$work/list.sql"
echo "SELECT * FROM teams WHERE org_id = :org AND id = :team;" >"$work/get.sql"
seconds=${DURATION%s}
for script in insert list get; do
    tps=$(pgbench -n -M prepared -c "$CLIENTS" -j 2 -T "$seconds" -D org="$pg_org" -D team="$pg_team" \
        -f "$work/$script.sql" "$pg_url" 2>/dev/null | awk '/^tps/ { print $3 }')
    printf '%-9s %-34s %10.0f\n' pgbench "$script (same SQL, no HTTP)" "$tps"
done
