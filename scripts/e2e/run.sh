#!/usr/bin/env bash
# Starts `tagtune serve` on a free loopback port with a temporary data folder and the tiny fixture
# checkpoints as its models folder, runs api_flow.py against it, and stops the server.
# Usage: scripts/e2e/run.sh [path/to/tagtune]   (default: .build/release/tagtune)
# With E2E_DATABASE_URL=postgres://… the server keeps its datasets and jobs in that (empty) PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/../.."
binary="${1:-.build/release/tagtune}"
work="$(mktemp -d -t tagtune-e2e-XXXXXX)"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port="$(free_port)"
# A webhook receiver that checks signatures and answers 500 twice, then 200 (scripts/e2e/webhook_receiver.py).
hook_port="$(free_port)"
secret="whsec_$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')"
python3 scripts/e2e/webhook_receiver.py --port "$hook_port" --secret "$secret" &
receiver=$!
TAGTUNE_WEBHOOKS_SECRET="$secret" "$binary" serve --host 127.0.0.1 --port "$port" --data-dir "$work/data" \
  --set models.dir=Tests/Fixtures/clip --set prompt_sets.dir="$work/prompt-sets" --log-level warning \
  --set models.bundled= --set prompt_sets.bundled= --set models.default= --set prompt_sets.default= \
  --set webhooks.endpoints="http://127.0.0.1:$hook_port/hook" --set webhooks.initial_backoff_seconds=0.1 \
  ${E2E_DATABASE_URL:+--set database.url="$E2E_DATABASE_URL"} \
  >"$work/server.log" 2>&1 &
server=$!
stop() {
  kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  kill "$receiver" 2>/dev/null || true
  rm -rf "$work"
}
trap stop EXIT
for _ in $(seq 1 300); do
  python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
    "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.1
done
python3 scripts/e2e/api_flow.py --base-url "http://127.0.0.1:$port" --model hf-tiny-f32 \
  --webhook-receiver "http://127.0.0.1:$hook_port" \
  || { echo "--- server log"; tail -50 "$work/server.log"; exit 1; }
