#!/usr/bin/env bash
# A throw-away PostgreSQL 15 for tests: its own folder, loopback only, durability off (a test's
# data need not survive a power cut), trust authentication for the `tagtune` role.
#
#   scripts/cluster/pg.sh up DIR [PORT]   initdb DIR/data (when absent) and start; prints the URL
#   scripts/cluster/pg.sh down DIR        stop (fast) and keep the folder
#   scripts/cluster/pg.sh restart DIR     stop and start again on the same port
#   scripts/cluster/pg.sh url DIR         the postgres:// URL of a running one
#
# PostgreSQL refuses to run as root: as root the server runs as the `postgres` user (Debian's
# postgresql packages create it), otherwise as the caller.
set -euo pipefail

command_name=${1:?"usage: pg.sh up|down|restart|url DIR [PORT]"}
DIR=${2:?"usage: pg.sh up|down|restart|url DIR [PORT]"}
BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$BIN/pg_ctl" ] || { echo "pg.sh: PostgreSQL's server binaries are not installed (Debian: postgresql-15)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  local port=$1
  echo "$port" > "$DIR/port"
  as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 -o \
    "-k $DIR -c listen_addresses=127.0.0.1 -p $port -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null
}

case "$command_name" in
  up)
    mkdir -p "$DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$DIR"
    if [ ! -d "$DIR/data" ]; then
      as_owner "$BIN/initdb" -D "$DIR/data" -U tagtune --auth=trust -E UTF8 --no-locale >/dev/null
    fi
    start "${3:-$(free_port)}"
    as_owner "$BIN/psql" -h 127.0.0.1 -p "$(cat "$DIR/port")" -U tagtune -d postgres -qAt \
      -c "SELECT 1 FROM pg_database WHERE datname = 'tagtune'" | grep -q 1 \
      || as_owner "$BIN/createdb" -h 127.0.0.1 -p "$(cat "$DIR/port")" -U tagtune tagtune
    echo "postgres://tagtune@127.0.0.1:$(cat "$DIR/port")/tagtune"
    ;;
  down)
    [ -f "$DIR/data/postmaster.pid" ] && as_owner "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null || true
    ;;
  restart)
    as_owner "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null
    start "$(cat "$DIR/port")"
    ;;
  url)
    echo "postgres://tagtune@127.0.0.1:$(cat "$DIR/port")/tagtune"
    ;;
  *)
    echo "usage: pg.sh up|down|restart|url DIR [PORT]" >&2; exit 2
    ;;
esac
