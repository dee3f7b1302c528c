#!/usr/bin/env bash
# Renders deploy/nginx/tagtune.conf.template for a listen address and a list of replicas.
#
#   scripts/deploy/nginx_conf.sh LISTEN HOST:PORT [HOST:PORT ...]
#       the http-context file on standard output (for /etc/nginx/conf.d/tagtune.conf)
#   scripts/deploy/nginx_conf.sh --standalone DIR LISTEN HOST:PORT [HOST:PORT ...]
#       DIR/tagtune.conf plus DIR/nginx.conf, a complete configuration whose pid, logs and temporary
#       files all live in DIR (for tests: no root, nothing under /etc or /var); prints DIR/nginx.conf.
#       Start:  nginx -p DIR -e DIR/error.log -c DIR/nginx.conf      Stop: the same with -s quit
#
# Environment: TAGTUNE_NGINX_SERVER_PARAMS (default "max_fails=3 fail_timeout=5s") is appended to each
# server line; TAGTUNE_NGINX_ACCESS_LOG (default /var/log/nginx/tagtune.access.log, DIR/access.log
# when standalone).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
template="$here/../../deploy/nginx/tagtune.conf.template"
usage="usage: nginx_conf.sh [--standalone DIR] LISTEN HOST:PORT [HOST:PORT ...]"

standalone=""
if [ "${1:-}" = "--standalone" ]; then
  standalone=${2:?"$usage"}
  shift 2
  mkdir -p "$standalone"
  standalone=$(cd "$standalone" && pwd)
fi
[ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }
listen=$1
shift

params=${TAGTUNE_NGINX_SERVER_PARAMS-max_fails=3 fail_timeout=5s}
servers=""
for upstream in "$@"; do
  [[ "$upstream" =~ ^[][A-Za-z0-9.:_-]+:[0-9]+$ ]] || { echo "nginx_conf.sh: not HOST:PORT: $upstream" >&2; exit 2; }
  servers+="${servers:+$'\n'}    server $upstream${params:+ $params};"
done

if [ -n "$standalone" ]; then
  access_log=${TAGTUNE_NGINX_ACCESS_LOG:-$standalone/access.log}
else
  access_log=${TAGTUNE_NGINX_ACCESS_LOG:-/var/log/nginx/tagtune.access.log}
fi

render() {
  local line
  echo "# Rendered from deploy/nginx/tagtune.conf.template by scripts/deploy/nginx_conf.sh: edit the template."
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line//'${TAGTUNE_NGINX_LISTEN}'/$listen}
    line=${line//'${TAGTUNE_NGINX_ACCESS_LOG}'/$access_log}
    line=${line//'${TAGTUNE_NGINX_UPSTREAM_SERVERS}'/$servers}
    printf '%s\n' "$line"
  done < "$template"
}

if [ -z "$standalone" ]; then
  render
  exit 0
fi

# As root, nginx's workers run as nobody: they must reach the temporary folders nginx creates here.
chmod 755 "$standalone"
render > "$standalone/tagtune.conf"
cat > "$standalone/nginx.conf" <<CONF
# Standalone wrapper made by scripts/deploy/nginx_conf.sh: everything nginx writes stays in this folder.
worker_processes 1;
pid $standalone/nginx.pid;
error_log $standalone/error.log warn;
events {
    worker_connections 1024;
}
http {
    client_body_temp_path $standalone/client_body_temp;
    proxy_temp_path $standalone/proxy_temp;
    fastcgi_temp_path $standalone/fastcgi_temp;
    uwsgi_temp_path $standalone/uwsgi_temp;
    scgi_temp_path $standalone/scgi_temp;
    include $standalone/tagtune.conf;
}
CONF
echo "$standalone/nginx.conf"
