#!/usr/bin/env bash
# Schemathesis against the served /openapi.json, keyless and keyed: generated requests for every
# operation, checked for server errors (5xx) and for responses the document does not describe.
# Installs schemathesis (PyPI) when missing. Loopback only; each run is bounded by -n. Settings that
# keep runs independent of earlier ones: scripts/probe/schemathesis.toml.
# Usage: scripts/probe/schemathesis.sh [path/to/tagtune] [examples per operation, default 25]
set -euo pipefail
cd "$(dirname "$0")/../.."
binary="${1:-.build/release/tagtune}"
examples="${2:-25}"
python3 -c "import schemathesis" 2>/dev/null || python3 -m pip install -q schemathesis==4.32.5
work="$(mktemp -d -t tagtune-st-XXXXXX)"
key="schemathesis-key-0123456789abcdef"
servers=()
stop() {
  for pid in "${servers[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap stop EXIT

run() {  # run NAME [schemathesis options…]
  local name=$1; shift
  local port
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  mkdir -p "$work/$name"
  (if [ "$name" = keyed ]; then export TAGTUNE_AUTH_API_KEYS="$key"; fi
   exec "$binary" serve --config config/tagtune.yaml --port "$port" --data-dir "$work/$name/data" \
     --set models.dir="$work/$name/models" --log-level warning) >"$work/$name/server.log" 2>&1 &
  servers+=($!)
  for _ in $(seq 1 600); do
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
      "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  echo "schemathesis ($name): http://127.0.0.1:$port/openapi.json, $examples examples per operation"
  # One worker: with two, both worker threads can be in ast.parse at once (Hypothesis parses a
  # module's source to describe the lambdas of the coverage phase's filters, and its gc callback
  # lets the other thread run mid-parse); CPython 3.11's ast module keeps its recursion depth in
  # state the threads share, so the coverage phase stops with "SystemError: AST constructor
  # recursion depth mismatch" (seen on POST /v1/datasets; cf. cpython#106905). A schemathesis
  # problem, not the server's; one worker costs little, the run is bound by schemathesis's Python.
  schemathesis --config-file scripts/probe/schemathesis.toml run "http://127.0.0.1:$port/openapi.json" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    -n "$examples" --seed 1 --workers 1 --request-timeout 30 --no-color "$@" \
    || { echo "--- server log ($name)"; tail -40 "$work/$name/server.log"; return 1; }
}

run keyless
run keyed -H "Authorization:Bearer $key"
