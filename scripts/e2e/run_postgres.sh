#!/usr/bin/env bash
# The API flow (scripts/e2e/run.sh) with the server's datasets and jobs in PostgreSQL: a throw-away
# PostgreSQL 15 (scripts/cluster/pg.sh) in a temporary folder, stopped afterwards.
# Usage: scripts/e2e/run_postgres.sh [path/to/tagtune]
set -euo pipefail
cd "$(dirname "$0")/../.."
folder="$(mktemp -d -t tagtune-e2e-pg-XXXXXX)"
stop() { scripts/cluster/pg.sh down "$folder" || true; rm -rf "$folder"; }
trap stop EXIT
url="$(scripts/cluster/pg.sh up "$folder")"
E2E_DATABASE_URL="$url" scripts/e2e/run.sh "${1:-.build/release/tagtune}"
