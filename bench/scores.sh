#!/usr/bin/env bash
# Satisfaction scores at volume, on PostgreSQL, against the database's own speed in the same run:
#   1. ingestion: SCORES scores (default 100,000; the issue's figure is 1,000,000) through
#      POST /v1/satisfaction-scores/batch in batches of 1,000, beside COPY of as many rows;
#   2. single POST /v1/satisfaction-scores through oha at 16 connections, beside pgbench running
#      the transaction the API writes (the score, its audit entry and its outbox event);
#   3. each report over the loaded year, through the API, beside the very statement the server
#      sent (read back from PostgreSQL's log, with its parameters) run again through psql.
#
#   bash bench/scores.sh
#   SCORES=1000000 bash bench/scores.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SCORES=${SCORES:-100000}
SECONDS_PER_ROUND=${SECONDS_PER_ROUND:-10}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
# oha, not wrk: wrk's latency figures for POSTs are wrong on this machine (bench/README.md).
export PATH="$HOME/.cargo/bin:$PATH"
command -v oha >/dev/null || cargo install --quiet --locked oha --version 1.16.0

cargo build --quiet --release --locked -p circulo-api --bin circulo
bin=$PWD/target/release/circulo
work=$(mktemp -d)
db="circulo_scores_$$"
url="${PG_ADMIN_URL%/*}/$db"
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    # KEEP_DB=1 leaves the loaded database for EXPLAIN.
    [ -n "${KEEP_DB:-}" ] && echo "kept database $db" || \
        psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
export CIRCULO_JWT_SECRET RUST_LOG=warn CIRCULO_DATABASE_URL=$url
CIRCULO_JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $db" >/dev/null
# LOG_SLOW_MS=100 logs every statement slower than that to PostgreSQL's log, for a profile.
psql "$PG_ADMIN_URL" -qc "ALTER DATABASE $db SET log_min_duration_statement = ${LOG_SLOW_MS:--1}" >/dev/null
json() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -fsS "$base/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
org=$("$bin" org create --name Bench --currency EUR --timezone Europe/Madrid | json id)
owner=$("$bin" token --org "$org" --role owner --ttl-seconds 36000)
crm=$("$bin" token --org "$org" --role integration --sub crm --scope "scores:write reports:read" --ttl-seconds 36000)

# Ten teams of ten members.
: >"$work/members"
for t in $(seq 1 10); do
    team=$(curl -fsS -X POST "$base/v1/teams" -H "Authorization: Bearer $owner" -H 'Content-Type: application/json' \
        -d "{\"name\": \"Shop $t\"}" | json id)
    for m in $(seq 1 10); do
        member=$(curl -fsS -X POST "$base/v1/members" -H "Authorization: Bearer $owner" -H 'Content-Type: application/json' \
            -d "{\"display_name\": \"Staff $t-$m\", \"role\": \"staff\", \"team_id\": \"$team\"}" | json id)
        echo "$team $member" >>"$work/members"
    done
done

# The year's scores: batches for the API, and as many other rows as CSV for COPY.
python3 - "$work" "$SCORES" "$org" <<'PY'
import json, os, random, sys, uuid, datetime
work, n, org = sys.argv[1], int(sys.argv[2]), sys.argv[3]
members = [line.split() for line in open(os.path.join(work, "members"))]
random.seed(7)
start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
instruments = [("csat", 1, 5), ("nps", 0, 10), ("ces", 1, 7)]
touchpoints = ["pos", "phone", "email", "visit", "web", "other"]
def item(i):
    team, member = random.choice(members)
    name, low, high = random.choice(instruments)
    at = start + datetime.timedelta(seconds=random.randrange(334 * 86400))
    return team, member, name, random.randint(low, high), random.choice(touchpoints), at
os.makedirs(os.path.join(work, "batches"))
for b in range(0, n, 1000):
    items = []
    for i in range(b, min(b + 1000, n)):
        team, member, name, score, touchpoint, at = item(i)
        items.append({"audience": "client", "instrument": name, "score": score, "member_id": member,
                      "team_id": team, "touchpoint": touchpoint, "occurred_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "source": "crm", "external_id": f"api-{i}"})
    with open(os.path.join(work, "batches", f"{b // 1000:05d}.json"), "w") as f:
        json.dump({"items": items}, f)
# COPY's rows: the scores, and for the second reference the audit entry and event each score
# also gets through the API (bodies of the same shape and size).
import csv
with open(os.path.join(work, "copy.csv"), "w") as f, open(os.path.join(work, "audit.csv"), "w") as a, \
        open(os.path.join(work, "outbox.csv"), "w") as o:
    audit, outbox = csv.writer(a), csv.writer(o)
    for i in range(n):
        team, member, name, score, touchpoint, at = item(i)
        score_id, stamp = str(uuid.uuid4()), at.strftime('%Y-%m-%d %H:%M:%S')
        f.write(f"{org},{score_id},client,{name},{score},{member},{team},{touchpoint},"
                f"{stamp},copy,copy-{i},integration,crm,{stamp}\n")
        body = {"id": score_id, "audience": "client", "instrument": name, "score": score, "member_id": member,
                "team_id": team, "touchpoint": touchpoint, "occurred_at": stamp, "source": "copy",
                "external_id": f"copy-{i}", "recorded_by": {"role": "integration", "subject": "crm"}}
        audit.writerow([org, str(uuid.uuid4()), stamp, "integration", "crm", "score.recorded", "satisfaction_score",
                        score_id, "copy", json.dumps(body), stamp])
        outbox.writerow([org, f"copy-{uuid.uuid4()}", "score.recorded",
                         json.dumps({"type": "score.recorded", "timestamp": stamp, "data": body}), stamp, stamp])
PY

# 1. Ingestion: the batches one after another (one CRM connection), then COPY.
started=$(date +%s.%N)
for batch in "$work"/batches/*.json; do
    curl -fsS -o "$work/batch.out" -X POST "$base/v1/satisfaction-scores/batch" -H "Authorization: Bearer $crm" \
        -H 'Content-Type: application/json' --data-binary "@$batch"
    grep -q '"invalid"' "$work/batch.out" && { echo "an item was refused:" >&2; head -c 600 "$work/batch.out" >&2; exit 1; }
done
api_seconds=$(python3 -c "import time; print(time.time() - $started)")
copy_seconds=$( { /usr/bin/time -f %e psql "$url" -qc "\\copy satisfaction_scores (org_id, id, audience, instrument, score, member_id, team_id, touchpoint, occurred_at, source, external_id, recorded_by_role, recorded_by_subject, created_at) FROM '$work/copy.csv' CSV" ; } 2>&1 >/dev/null | tail -1)
# The second reference: COPY of the audit entries and events the API writes beside the scores.
more_seconds=$( { /usr/bin/time -f %e psql "$url" -q \
    -c "\\copy audit_events (org_id, id, occurred_at, actor_role, actor_subject, action, entity_type, entity_id, request_id, changes, feed_after) FROM '$work/audit.csv' CSV" \
    -c "\\copy outbox_events (org_id, id, event_type, payload, created_at, deliver_after) FROM '$work/outbox.csv' CSV" ; } 2>&1 >/dev/null | tail -1)
python3 - "$SCORES" "$api_seconds" "$copy_seconds" "$more_seconds" <<'PY'
import sys
n, api, copy, more = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
print(f"ingestion: {n} scores, batch API {n / api:,.0f}/s ({api:.1f} s), COPY of the scores {n / copy:,.0f}/s ({copy:.1f} s), ratio {copy / api:.2f}")
print(f"           COPY of every row the API writes (score, audit entry, event) {n / (copy + more):,.0f}/s ({copy + more:.1f} s), ratio {(copy + more) / api:.2f}")
PY
stored=$(psql "$url" -Atc "SELECT count(*) FROM satisfaction_scores")
[ "$stored" -eq $((2 * SCORES)) ] || { echo "expected $((2 * SCORES)) rows, found $stored" >&2; exit 1; }
# The reports run over the scores that came through the API: COPY's rows go.
psql "$url" -qc "DELETE FROM satisfaction_scores WHERE source = 'copy'" -c "DELETE FROM audit_events WHERE request_id = 'copy'" \
    -c "DELETE FROM outbox_events WHERE id LIKE 'copy-%'" -c "VACUUM ANALYZE" >/dev/null

# 2. Single POST at 16 connections, beside pgbench writing the same three rows.
member=$(head -1 "$work/members" | cut -d' ' -f2)
# One body per member, without an external id: oha's -Z picks lines at random, so ids would
# repeat and be answered as duplicates; a score without one is recorded every time.
python3 - "$work/members" >"$work/post.bodies" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    team, member = line.split()
    print(json.dumps({"audience": "client", "instrument": "csat", "score": 4, "member_id": member, "touchpoint": "pos",
                      "occurred_at": "2026-11-30T10:00:00Z", "source": "oha"}))
PY
cat >"$work/post.sql" <<SQL
BEGIN;
INSERT INTO satisfaction_scores (org_id, id, audience, instrument, score, member_id, team_id, client_ref, touchpoint,
    occurred_at, source, external_id, comment, icare_ideal, icare_culture, icare_attention, icare_response, icare_empathy,
    decision_id, recorded_by_role, recorded_by_subject, created_at)
    VALUES (:org, gen_random_uuid()::text, 'client', 'csat', 4, '$member', NULL, NULL, 'pos', now(), 'pgbench',
            gen_random_uuid()::text, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'integration', 'crm', now());
INSERT INTO audit_events (org_id, id, occurred_at, actor_role, actor_subject, action, entity_type, entity_id, request_id, changes, feed_after)
    VALUES (:org, gen_random_uuid()::text, now(), 'integration', 'crm', 'score.recorded', 'satisfaction_score', 'x', 'r',
            '{"audience": "client", "instrument": "csat", "score": 4, "touchpoint": "pos", "source": "pgbench"}', now());
INSERT INTO outbox_events (org_id, id, event_type, payload, created_at, deliver_after)
    VALUES (:org, gen_random_uuid()::text, 'score.recorded', '{"type": "score.recorded", "data": {"score": 4}}', now(), now());
COMMIT;
SQL
# The median of three rounds, the API and pgbench taking turns: the machine is shared.
: >"$work/post.rounds"
for _ in 1 2 3; do
    oha -z "${SECONDS_PER_ROUND}s" -w -c 16 --no-tui --output-format json -m POST \
        -H "Authorization: Bearer $crm" -H 'Content-Type: application/json' -Z "$work/post.bodies" \
        "$base/v1/satisfaction-scores" >"$work/oha.json"
    api=$(python3 - "$work/oha.json" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
if set(run["statusCodeDistribution"]) != {"201"} or run["errorDistribution"]:
    sys.exit(f"not every score was answered 201: {run['statusCodeDistribution']} {run['errorDistribution']}")
p = run["latencyPercentiles"]
print(f"{run['summary']['requestsPerSec']:.0f} {p['p50'] * 1000:.1f} {p['p99'] * 1000:.1f}")
PY
)
    tps=$(pgbench -n -M prepared -c 16 -j 2 -T "$SECONDS_PER_ROUND" -D org="$org" -f "$work/post.sql" "$url" 2>/dev/null |
        awk '/^tps/ { printf "%.0f", $3 }')
    echo "$api $tps" >>"$work/post.rounds"
done
python3 - "$work/post.rounds" <<'PY'
import statistics, sys
rounds = [list(map(float, line.split())) for line in open(sys.argv[1])]
rps, p50, p99, tps = (statistics.median(r[i] for r in rounds) for i in range(4))
print(f"single POST at 16 connections (median of 3 rounds): API {rps:.0f}/s (p50 {p50} ms, p99 {p99} ms), "
      f"pgbench {tps:.0f} tps, ratio {rps / tps:.2f}")
PY

# 3. Each report over the year, through the API and as the same statement through psql, on a
# settled table: the single POSTs added enough rows to start autovacuum in the middle of them.
psql "$url" -qc "VACUUM ANALYZE" >/dev/null
psql "$PG_ADMIN_URL" -qc "ALTER DATABASE $db SET log_min_duration_statement = 0" >/dev/null
kill "$server"; wait "$server" 2>/dev/null || true
"$bin" serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fsS "$base/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
log=$(ls -t /var/log/postgresql/*.log | head -1)
reports=(
    "satisfaction?group_by=team&interval=month&from=2026-01-01&to=2027-01-01"
    "satisfaction?group_by=touchpoint&from=2026-01-01&to=2027-01-01"
    "satisfaction?group_by=member&interval=week&from=2026-01-01&to=2027-01-01"
    "mirror?from=2026-01-01&to=2027-01-01"
    "empowerment?group_by=team&from=2026-01-01&to=2027-01-01"
    "goals?group_by=member&from=2026-01-01&to=2027-01-01"
)
# Finds the report's statement as PostgreSQL logged it and runs it again with its parameters.
cat >"$work/rerun.py" <<'PY'
import re, subprocess, sys
text = sys.stdin.read()
entries = re.split(r"\n(?=\S+ \S+ \S+ \[\d+\])", text)
statement, params = None, {}
for i, entry in enumerate(entries):
    m = re.search(r"execute <unnamed>: (WITH .*|SELECT t\.id .*|SELECT p\.start .*)", entry, re.S)
    if m and ("satisfaction_scores" in m.group(1) or "FROM goals" in m.group(1)) and "FROM organizations" not in m.group(1):
        statement = m.group(1).strip()
        detail = re.search(r"DETAIL:\s+parameters: (.*)", entries[i + 1] if i + 1 < len(entries) else "", re.S | re.I) or re.search(r"DETAIL:\s+parameters: (.*)", entry, re.S | re.I)
        if detail:
            for k, v in re.findall(r"\$(\d+) = ('(?:[^']|'')*'|NULL)", detail.group(1)):
                params[int(k)] = v
if statement is None:
    print("n/a"); sys.exit()
statement = re.sub(r"\s*\n?\S+ \S+ \S+ \[\d+\].*", "", statement, flags=re.S)
sql = re.sub(r"\$(\d+)", lambda m: params.get(int(m.group(1)), "NULL"), statement)
best = None
for _ in range(3):
    out = subprocess.run(["psql", sys.argv[1], "-qAt", "-c", "\\timing on", "-c", sql], capture_output=True, text=True).stdout
    times = re.findall(r"Time: ([\d.]+) ms", out)
    if times:
        best = min(best or 1e18, float(times[-1]))
print(f"{best:.1f}" if best is not None else "n/a")
PY
printf '%-62s %9s %9s %7s\n' report api_ms psql_ms ratio
for report in "${reports[@]}"; do
    status=$(curl -sS -o "$work/report.out" -w '%{http_code}' "$base/v1/reports/$report" -H "Authorization: Bearer $crm")
    [ "$status" = 200 ] || { echo "$report: $status $(head -c 400 "$work/report.out")" >&2; exit 1; }
    start_line=$(($(wc -l <"$log") + 1))
    # The best of three, as psql's time below is.
    api_ms=$(for _ in 1 2 3; do curl -fsS -o /dev/null -w '%{time_total}\n' "$base/v1/reports/$report" \
        -H "Authorization: Bearer $crm"; done | python3 -c "import sys; print(f'{min(map(float, sys.stdin.read().split())) * 1000:.1f}')")
    sleep 0.3
    # The report's statement as PostgreSQL logged it, run again with its parameters.
    psql_ms=$(tail -n +"$start_line" "$log" | python3 "$work/rerun.py" "$url")
    ratio=$(python3 -c "print(f'{$api_ms / $psql_ms:.2f}')" 2>/dev/null || echo n/a)
    printf '%-62s %9s %9s %7s\n' "$report" "$api_ms" "$psql_ms" "$ratio"
done
printf 'peak RSS: %d MiB\n' $(($(awk '/VmHWM/ { print $2 }' "/proc/$server/status") / 1024))
