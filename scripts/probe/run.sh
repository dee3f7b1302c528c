#!/usr/bin/env bash
# The probe suite of 2026-12 (docs: scripts/probe/probe.py): the demo server as the container runs
# it — an unprivileged user (uid/gid 65534) serving root-owned copies of the binary, configuration
# and demo files, with API keys — on a free loopback port, probe.py against it, then the server stops.
# Usage: scripts/probe/run.sh [path/to/tagtune]   (default: .build/release/tagtune)
set -euo pipefail
cd "$(dirname "$0")/../.."
binary="${1:-.build/release/tagtune}"
work="$(mktemp -d -t tagtune-probe-XXXXXX)"
chmod 755 "$work"
app="$work/app" data="$work/data"
mkdir -p "$app/demo" "$data"
cp "$binary" "$app/tagtune"
cp -r config Public "$app/"
cp -r demo/model demo/prompt-set demo/examples "$app/demo/"
chmod -R a+rX,go-w "$app"
key="probe-key-0123456789abcdef"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
as_user=()
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  chown -R 65534:65534 "$data"
  as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
else
  echo "probe: not root (or no setpriv): the server runs as $(id -un), the unprivileged start is not checked"
fi
(cd "$app" && TAGTUNE_AUTH_API_KEYS="$key" exec "${as_user[@]}" ./tagtune serve --config config/tagtune.yaml \
  --port "$port" --data-dir "$data" --set models.dir="$data/models" --log-level notice \
  --set limits.max_concurrent_requests=8 --set limits.max_body_bytes=1048576 \
  --set server.idle_timeout_seconds=2 --set server.body_grace_seconds=20) >"$work/server.log" 2>&1 &
server=$!
stop() {
  kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap stop EXIT
python3 scripts/probe/probe.py --port "$port" --data-dir "$data" --key "$key" --server-pid "$server" \
  || { echo "--- server log"; tail -60 "$work/server.log"; exit 1; }
