#!/usr/bin/env bash
# The three-replica cluster test (make cluster-test, issue #17): a throw-away PostgreSQL 15
# (scripts/cluster/pg.sh) in a temporary folder on a loopback port, three nginx instances rendered
# from deploy/nginx/tagtune.conf.template (scripts/deploy/nginx_conf.sh --standalone) in front of
# all three replicas, of r1 alone and of r1 and r2, then scripts/cluster/cluster_flow.py, which
# starts the three `tagtune serve` replicas on that PostgreSQL (a shared blobs.dir, a cache.dir
# each), kills, pauses and restarts them, and runs the scenarios of issue #17 (the scale-out
# design's test plan: migration race, takeover, fencing, cancel, propagation, hand-back…).
# Everything started here is stopped on exit, failures included; KEEP=1 keeps the folder (logs).
#
# Usage: scripts/cluster/run.sh [path/to/tagtune] [cluster_flow.py options…]
#        (default binary: .build/release/tagtune; e.g. --only 3,4 runs two scenarios)
# Needs: postgresql-15 (make deps), nginx (Debian nginx-light: installed with apt-get as root).
set -euo pipefail
cd "$(dirname "$0")/../.."
binary="$(realpath "${1:-.build/release/tagtune}")"
[ -x "$binary" ] || { echo "cluster-test: no tagtune binary at $binary (build it: swift build -c release)" >&2; exit 2; }

# nginx as scripts/deploy/check.sh finds it: $NGINX, PATH, /usr/sbin; installed (nginx-light) as root.
NGINX=${NGINX:-$(command -v nginx || true)}
if [ -z "$NGINX" ] && [ -x /usr/sbin/nginx ]; then NGINX=/usr/sbin/nginx; fi
if [ -z "$NGINX" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "cluster-test: installing nginx-light" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq nginx-light >/dev/null 2>&1 \
      || { apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null; }
    NGINX=$(command -v nginx || echo /usr/sbin/nginx)
  else
    echo "cluster-test: nginx is missing; run: sudo apt-get update && sudo apt-get install -y nginx-light" >&2
    exit 1
  fi
fi
command -v psql >/dev/null || { echo "cluster-test: psql is missing (Debian: postgresql-15, make deps installs it)" >&2; exit 1; }

work="$(mktemp -d -t tagtune-cluster-XXXXXX)"
# As root, nginx's workers run as nobody and must reach the folders nginx_conf.sh makes in here.
chmod 755 "$work"
nginx_pids=()
flow=""

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ "$status" != 0 ] && [ ! -f "$work/replicas/.tails-printed" ]; then
    for log in "$work"/replicas/r*/server.log; do
      [ -f "$log" ] || continue
      echo "--- $(basename "$(dirname "$log")") log tail"
      grep -v -e '\[Server\] request' -e 'Connection creation failed' "$log" | tail -25 | cut -c1-300
    done
  fi
  # cluster_flow.py, when this script was interrupted: SIGTERM makes it stop its replicas.
  if [ -n "${flow:-}" ] && kill -0 "$flow" 2>/dev/null; then
    kill -TERM "$flow" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$flow" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$flow" 2>/dev/null || true
  fi
  # Replicas cluster_flow.py left behind (it stops them itself; this is for when it was killed):
  # only processes whose command line names this run's folder.
  local file pid
  for file in "$work"/replicas/*/pid; do
    [ -f "$file" ] || continue
    pid=$(cat "$file")
    if grep -qF "$work" "/proc/$pid/cmdline" 2>/dev/null; then
      kill -CONT "$pid" 2>/dev/null || true
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  for pid in "${nginx_pids[@]}"; do
    kill -QUIT "$pid" 2>/dev/null || true
  done
  for pid in "${nginx_pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  scripts/cluster/pg.sh down "$work/pg" >/dev/null 2>&1 || true
  if [ "${KEEP:-0}" = 1 ]; then
    echo "cluster-test: kept $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

started=$SECONDS
url="$(scripts/cluster/pg.sh up "$work/pg")"
echo "cluster-test: PostgreSQL $(cat "$work/pg/data/PG_VERSION") at $url ($((SECONDS - started)) s)"

ports=("$(free_port)" "$(free_port)" "$(free_port)")
# nginx from the deployment template, each in the foreground as a child of this script (so that a
# watchdog that kills this script's process tree stops it too).
start_nginx() {   # NAME LISTEN-PORT REPLICA-PORT…
  local name=$1 listen=$2
  shift 2
  local upstreams=()
  for port in "$@"; do upstreams+=("127.0.0.1:$port"); done
  local conf
  conf=$(scripts/deploy/nginx_conf.sh --standalone "$work/nginx-$name" "127.0.0.1:$listen" "${upstreams[@]}")
  "$NGINX" -p "$work/nginx-$name" -e "$work/nginx-$name/error.log" -c "$conf" -g 'daemon off;' &
  nginx_pids+=($!)
}
nginx_all="$(free_port)"
nginx_one="$(free_port)"
nginx_two="$(free_port)"
start_nginx all "$nginx_all" "${ports[@]}"
start_nginx one "$nginx_one" "${ports[0]}"
start_nginx two "$nginx_two" "${ports[0]}" "${ports[1]}"

# In the background and waited for, so that a signal to this script runs the cleanup at once.
python3 scripts/cluster/cluster_flow.py --binary "$binary" --database-url "$url" --pg-dir "$work/pg" \
  --work "$work/replicas" --ports "${ports[@]}" \
  --nginx "http://127.0.0.1:$nginx_all" --nginx-one "http://127.0.0.1:$nginx_one" --nginx-two "http://127.0.0.1:$nginx_two" \
  "${@:2}" &
flow=$!
wait "$flow"
flow=""
echo "cluster-test: $((SECONDS - started)) s in all"
