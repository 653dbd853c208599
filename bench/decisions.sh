#!/usr/bin/env bash
# The counter's hot path: POST /v1/decisions through an integration token (a POS) for 100
# cashiers with grants of their own, driven by wrk at 1, 16 and 64 connections, each round
# followed by pgbench running the equivalent transaction on the same database and tables (the
# conditional budget upsert, the decision insert and the audit insert). Prints throughput,
# p50/p99, the ratio, and the server's peak RSS.
#
#   bash bench/decisions.sh                  # 10 s per round
#   SECONDS_PER_ROUND=20 bash bench/decisions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_ROUND=${SECONDS_PER_ROUND:-10}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

cargo build --quiet --release --locked -p circulo-api --bin circulo
bin=$PWD/target/release/circulo
work=$(mktemp -d)
bench_db="circulo_decisions_$$"
pg_url="${PG_ADMIN_URL%/*}/$bench_db"
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $bench_db WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
export CIRCULO_JWT_SECRET RUST_LOG=warn CIRCULO_DATABASE_URL=$pg_url
CIRCULO_JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $bench_db" >/dev/null
json() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -fsS "$base/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
org=$("$bin" org create --name Bench --currency EUR | json id)
owner=$("$bin" token --org "$org" --role owner --ttl-seconds 36000)
pos=$("$bin" token --org "$org" --role integration --sub pos --scope decisions:write --ttl-seconds 36000)

# 100 cashiers, each with a grant large enough that every decision is approved.
: >"$work/cashiers"
for i in $(seq 1 100); do
    cashier=$(curl -fsS -X POST "$base/v1/members" -H "Authorization: Bearer $owner" \
        -H 'Content-Type: application/json' -d "{\"display_name\": \"Cashier $i\", \"role\": \"staff\"}" | json id)
    grant=$(curl -fsS -X POST "$base/v1/delegations" -H "Authorization: Bearer $owner" -H 'Content-Type: application/json' \
        -d "{\"delegate_member_id\": \"$cashier\", \"action\": \"refund\", \"currency\": \"EUR\", \"per_decision_limit_minor\": 100,
             \"budget_minor\": 1000000000000, \"budget_period\": \"total\", \"rationale\": \"bench\"}" | json id)
    echo "$i $cashier $grant" >>"$work/cashiers"
done
# pgbench finds the same cashiers and grants by number.
psql "$pg_url" -qc "CREATE TABLE bench_grants (n int PRIMARY KEY, member_id text, grant_id text, period_start timestamp)"
while read -r n cashier grant; do
    echo "INSERT INTO bench_grants VALUES ($n, '$cashier', '$grant', (SELECT valid_from FROM delegations WHERE id = '$grant'));"
done <"$work/cashiers" | psql "$pg_url" -q

python3 - "$work/cashiers" >"$work/decide.lua" <<'PY'
import sys
ids = [line.split()[1] for line in open(sys.argv[1])]
print("local ids = {" + ", ".join(f'"{i}"' for i in ids) + "}")
print('''wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
    n = n + 1
    local body = '{"member_id": "' .. ids[(n % #ids) + 1] .. '", "action": "refund", "amount_minor": 100, "currency": "EUR", "client_ref": "POS-API", "touchpoint": "pos"}'
    return wrk.format("POST", nil, nil, body)
end''')
PY

# What the API's transaction writes, as one pgbench transaction: the budget upsert (same
# statement), the decision and its audit entry. (The API also reads the member, the grants and
# the organization, and keeps no idempotency record without a key.)
cat >"$work/decide.sql" <<'SQL'
\set n random(1, 100)
BEGIN;
INSERT INTO delegation_usage (org_id, delegation_id, period_start, used_minor, decisions)
    SELECT :org, grant_id, period_start, 100, 1 FROM bench_grants WHERE n = :n
    ON CONFLICT (org_id, delegation_id, period_start) DO UPDATE
    SET used_minor = delegation_usage.used_minor + EXCLUDED.used_minor, decisions = delegation_usage.decisions + 1
    WHERE delegation_usage.used_minor + EXCLUDED.used_minor <= 1000000000000
    RETURNING used_minor;
INSERT INTO decisions (org_id, id, member_id, team_id, action, amount_minor, currency, client_ref, touchpoint, note, outcome,
        delegation_id, period_start, escalation_id, voided_at, void_reason, recorded_by_role, recorded_by_subject, created_at)
    SELECT :org, gen_random_uuid()::text, member_id, NULL, 'refund', 100, 'EUR', 'POS-1', 'pos', NULL, 'approved',
        grant_id, period_start, NULL, NULL, NULL, 'integration', 'pos', now() FROM bench_grants WHERE n = :n;
INSERT INTO audit_events (org_id, id, occurred_at, actor_role, actor_subject, action, entity_type, entity_id, request_id, changes, feed_after)
    VALUES (:org, gen_random_uuid()::text, now(), 'integration', 'pos', 'decision.approved', 'decision', 'x', 'r',
            '{"decision": {"action": "refund", "amount_minor": 100, "currency": "EUR", "outcome": "approved"}, "escalation": null}', now());
COMMIT;
SQL

printf '%-12s %10s %8s %8s %10s %7s\n' connections api_req/s p50_ms p99_ms pgbench/s ratio
for connections in 1 16 64; do
    threads=$((connections < 2 ? 1 : 2))
    tps=$(pgbench -n -M prepared -c "$connections" -j "$threads" -T "$SECONDS_PER_ROUND" -D org="$org" \
        -f "$work/decide.sql" "$pg_url" 2>/dev/null | awk '/^tps/ { printf "%.0f", $3 }')
    wrk -t "$threads" -c "$connections" -d "${SECONDS_PER_ROUND}s" --latency -s "$work/decide.lua" \
        -H "Authorization: Bearer $pos" "$base/v1/decisions" >"$work/wrk.out"
    if grep -q "Non-2xx" "$work/wrk.out"; then cat "$work/wrk.out" >&2; exit 1; fi
    rps=$(awk '/Requests\/sec/ { printf "%.0f", $2 }' "$work/wrk.out")
    ms() { awk -v p="$1" '$1 == p { v = $2; if (v ~ /us$/) { sub("us", "", v); v /= 1000 } else if (v ~ /ms$/) { sub("ms", "", v) } else if (v ~ /s$/) { sub("s", "", v); v *= 1000 } printf "%.1f", v }' "$work/wrk.out"; }
    printf '%-12s %10s %8s %8s %10s %7s\n' "$connections" "$rps" "$(ms 50%)" "$(ms 99%)" "$tps" \
        "$(python3 -c "print(f'{$rps / $tps:.2f}')")"
done
# Every decision was approved and counted once.
psql "$pg_url" -Atc "SELECT 'approved ' || count(*) FILTER (WHERE outcome = 'approved') || ', escalated ' || count(*) FILTER (WHERE outcome <> 'approved') FROM decisions WHERE client_ref = 'POS-API'"
printf 'peak RSS: %d MiB\n' $(($(awk '/VmHWM/ { print $2 }' "/proc/$server/status") / 1024))
