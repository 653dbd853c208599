# Sourced by CI scripts that talk to a running server: builds the debug binary and starts it in
# a temporary folder on the embedded SQLite default, with a known token secret. Sets `bin`,
# `work` (the folder, removed on exit), `base` (the server's URL) and `server` (its pid).
# The server delivers no webhooks (CIRCULO_WEBHOOK_WORKER=false): what the fuzzer subscribes
# must never be called.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$root/target/debug/circulo"
cargo build --quiet --locked -p circulo-api --bin circulo
work=$(mktemp -d)
unset CIRCULO_DATABASE_URL CIRCULO_JWKS_URL CIRCULO_JWT_ISSUER CIRCULO_JWT_AUDIENCE
export CIRCULO_JWT_SECRET=ci-secret-that-is-long-enough-for-hs256-0123456789
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$work" && RUST_LOG=warn CIRCULO_WEBHOOK_WORKER=false exec "$bin" serve --bind "127.0.0.1:$port" >server.log 2>&1) &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 50); do curl -fsS "$base/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "$base/readyz" >/dev/null || { cat "$work/server.log"; exit 1; }

# Creates an organization through the CLI, against the server's database; prints its id.
create_org() {
    (cd "$work" && "$bin" org create --name "$1") | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}

# Mints a token: `mint_token --org <id> --role owner`.
mint_token() {
    (cd "$work" && "$bin" token "$@" --ttl-seconds 3600)
}

# Fails when the server logged a panic.
no_panics() {
    if grep -q "panicked" "$work/server.log"; then cat "$work/server.log"; exit 1; fi
}
