# TagTune — the two commands: `make serve` and `make test`.
# Both check the Debian packages the build links against and install the missing ones
# (as root: apt-get; otherwise they print the command to run).

SHELL := /bin/bash
SWIFT ?= swift
PORT ?= 8080
CONFIG ?= config/tagtune.yaml

# Libraries the code links (headers + .so): OpenBLAS and oneDNN (GEMM), libjpeg-turbo and libpng
# (decoding), zlib (gzip vocabularies), libcrypto (SHA-256), SQLite (the jobs database, via GRDB).
# Keep in step with the Dockerfile. PostgreSQL 15's server is for the tests only (the store contract
# runs against it; scripts/cluster/pg.sh starts a throw-away one): the server talks to PostgreSQL
# through postgres-nio, which needs no client library.
DEB_PACKAGES := libopenblas-dev libdnnl-dev libturbojpeg0-dev libpng-dev zlib1g-dev libssl-dev libsqlite3-dev postgresql-15
# Python is used by the test runner's helpers only when present; nothing else is needed.

.PHONY: serve test build release deps bench clean help shapes-lt paper-table e2e probe schemathesis fuzz fuzz-smoke browser-deps browser-test deploy-check e2e-postgres cluster-test

help:
	@echo "make serve   build (release) and serve the bundled model on port $(PORT)"
	@echo "make test    run the whole test suite"
	@echo "make e2e     the HTTP API end to end: a server on a free port, scripts/e2e/api_flow.py against it"
	@echo "make e2e-postgres  the same with the datasets and jobs in a throw-away PostgreSQL (scripts/cluster/pg.sh)"
	@echo "make cluster-test  three replicas on one PostgreSQL behind nginx: takeover, fencing, cancel, hand-back, propagation (scripts/cluster/run.sh)"
	@echo "make probe   the December 2026 probe's cases against the demo server run as an unprivileged user"
	@echo "make fuzz-smoke  every fuzz target's regression inputs and 25 s of libFuzzer each (own build in .build-fuzz)"
	@echo "make fuzz FUZZ_TARGET=image FUZZ_SECONDS=600  one fuzz target for a long run (scripts/fuzz/run.sh)"
	@echo "make bench   engine benchmarks (release build)"
	@echo "make shapes-lt  generate the Shapes-LT benchmark into demo/shapes-lt"
	@echo "make paper-table  the LMPT paper's Table 1 on Shapes-LT (demo model, 3 seeds)"
	@echo "make browser-test  the web page in headless Chromium against a live server"
	@echo "make deploy-check  deploy/: kustomize render, strict Kubernetes schemas, nginx -t and a proxy smoke test (offline)"
	@echo "make clean   remove build products"

deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "missing Debian packages:$$missing"; \
	    echo "run: sudo apt-get update && sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi
	@command -v $(SWIFT) >/dev/null || { echo "swift is not on PATH: install the Swift 6 toolchain (swift.org) first"; exit 1; }

release: deps
	$(SWIFT) build -c release --product tagtune

build: deps
	$(SWIFT) build --product tagtune

serve: release
	.build/release/tagtune serve --config $(CONFIG) --port $(PORT)

# The numeric suites (encoders, training) run optimised: debug Swift is many times slower on them.
test: deps
	@python3 -c "import numpy, PIL" 2>/dev/null || python3 -m pip install -q numpy pillow
	python3 scripts/demo/test_shapes_world.py
	@python3 -c "import openapi_spec_validator" 2>/dev/null || python3 -m pip install -q openapi-spec-validator==0.9.0
	python3 scripts/check_openapi.py
	python3 scripts/ci/check_folder_cycles.py Sources/Server
	$(MAKE) deploy-check
	$(SWIFT) build --build-tests -c release -Xswiftc -enable-testing
	"$$($(SWIFT) build $(E2E_BUILD_FLAGS) --show-bin-path)/tagtune" serve --print-openapi --set auth.api_keys=openapi-check-key-0123456789abcdef > .build/openapi-served.json
	python3 scripts/check_openapi.py .build/openapi-served.json
	@# The store's contract runs on SQLite and on a throw-away PostgreSQL, stopped whatever the outcome.
	pg="$$(mktemp -d -t tagtune-test-pg-XXXXXX)"; url="$$(scripts/cluster/pg.sh up "$$pg")" || exit 1; \
	TAGTUNE_TEST_POSTGRES_URL="$$url" scripts/ci/watchdog.sh 1200 $(SWIFT) test --skip-build -c release -Xswiftc -enable-testing; \
	status=$$?; scripts/cluster/pg.sh down "$$pg"; rm -rf "$$pg"; exit $$status
	$(MAKE) e2e
	$(MAKE) e2e-postgres
	$(MAKE) cluster-test
	$(MAKE) probe
	$(MAKE) schemathesis
	$(MAKE) browser-test

# The datasets and tuning-jobs API over HTTP, as a client sees it: `tagtune serve` on a free
# loopback port with a temporary data folder and the tiny fixture checkpoints as models folder,
# scripts/e2e/api_flow.py (Python standard library only) against it, then the server stops.
# Built with the same flags as `make test`, so after it this build is already up to date.
E2E_BUILD_FLAGS ?= -c release -Xswiftc -enable-testing
e2e: deps
	$(SWIFT) build $(E2E_BUILD_FLAGS) --product tagtune
	scripts/ci/watchdog.sh 900 scripts/e2e/run.sh "$$($(SWIFT) build $(E2E_BUILD_FLAGS) --show-bin-path)/tagtune"

# The same flow with the server's datasets and jobs in a throw-away PostgreSQL 15 (database.url).
e2e-postgres: deps
	$(SWIFT) build $(E2E_BUILD_FLAGS) --product tagtune
	scripts/ci/watchdog.sh 900 scripts/e2e/run_postgres.sh "$$($(SWIFT) build $(E2E_BUILD_FLAGS) --show-bin-path)/tagtune"

# Three replicas on one throw-away PostgreSQL 15 behind nginx (rendered from deploy/nginx's template):
# scripts/cluster/run.sh starts them, scripts/cluster/cluster_flow.py runs issue #17's scenarios
# (migration race, cross-replica visibility, exactly-once claims, SIGKILL takeover, fencing, cancel
# through NOTIFY and through the heartbeat, prompt-set propagation and If-Match, SIGTERM hand-back,
# a PostgreSQL restart, /v1/tag throughput with one and two replicas) and prints the timings it
# measured (never checked against thresholds). About 2 minutes on 2 cores; nginx-light installed as root.
cluster-test: deps
	$(SWIFT) build $(E2E_BUILD_FLAGS) --product tagtune
	scripts/ci/watchdog.sh 900 scripts/cluster/run.sh "$$($(SWIFT) build $(E2E_BUILD_FLAGS) --show-bin-path)/tagtune"

# The probe suite (scripts/probe): the demo configuration with API keys, started as uid 65534 from
# root-owned copies (what the container does), then auth path forms, slow bodies and heads, the 413
# with Connection: close, error bodies, readiness after the default prompt set is deleted.
probe: deps
	$(SWIFT) build $(E2E_BUILD_FLAGS) --product tagtune
	scripts/ci/watchdog.sh 600 scripts/probe/run.sh "$$($(SWIFT) build $(E2E_BUILD_FLAGS) --show-bin-path)/tagtune"

# Schemathesis against the served /openapi.json, keyless and keyed (installs schemathesis 4.32.5 from
# PyPI when missing; settings in scripts/probe/schemathesis.toml): no 5xx, and every response as the
# document describes it. About a minute on a 2-core machine.
schemathesis: deps
	$(SWIFT) build $(E2E_BUILD_FLAGS) --product tagtune
	scripts/ci/watchdog.sh 600 scripts/probe/schemathesis.sh "$$($(SWIFT) build $(E2E_BUILD_FLAGS) --show-bin-path)/tagtune"

# Coverage-guided fuzzing (Fuzz/, libFuzzer through -sanitize=fuzzer,address, built apart into
# .build-fuzz). `make test` runs the same target bodies on their corpus, regression inputs and
# seeded mutations (Tests/FuzzTargetTests); libFuzzer is not part of it: a second build of the
# server's whole dependency graph with AddressSanitizer and coverage (35 minutes on a shared 2-core
# machine) does not fit CI's budget; run it on its own (see docs/ARCHITECTURE.md, Fuzzing).
FUZZ_SMOKE_SECONDS ?= 25
fuzz-smoke: deps
	scripts/ci/watchdog.sh 3600 scripts/fuzz/run.sh smoke $(FUZZ_SMOKE_SECONDS)

FUZZ_TARGET ?= image
FUZZ_SECONDS ?= 600
fuzz: deps
	scripts/fuzz/run.sh $(FUZZ_TARGET) $(FUZZ_SECONDS)

# Random-weight ViT-B checkpoints are made by scripts/bench/make_random_checkpoints.py (dev Python).
bench: release
	@test -d .bench/models/vit-b-32 || { echo "first: python3 scripts/bench/make_random_checkpoints.py (pip install -r scripts/requirements-dev.txt)"; exit 1; }
	.build/release/tagtune bench towers --model .bench/models/vit-b-32
	.build/release/tagtune bench towers --model .bench/models/vit-b-16
	.build/release/tagtune bench tune --model .bench/models/vit-b-16
	.build/release/tagtune bench gemm

# Shapes-LT, the synthetic long-tailed benchmark of the embedded demo (deterministic; ~25 s).
shapes-lt:
	@python3 -c "import numpy, PIL" 2>/dev/null || python3 -m pip install -q numpy pillow
	python3 scripts/demo/make_shapes_lt.py --out demo/shapes-lt

# The LMPT paper's Table 1 on Shapes-LT: settings and epochs chosen by 3-fold on train, 3 seeds scored on test.
# Reports and prompt sets go to runs/shapes-lt (finished runs are reused).
paper-table: release
	@test -f demo/shapes-lt/test/manifest.jsonl || $(MAKE) shapes-lt
	scripts/reproduce/shapes_lt_table.sh runs/shapes-lt

clean:
	rm -rf .build

# The deployment files (docs/DEPLOY.md), offline: `kubectl kustomize deploy/kubernetes` and every
# document against Kubernetes 1.30's schemas with unknown fields as errors (kubernetes-validate
# 1.37.0 in .build/deploy-venv), the examples, the TAGTUNE_* names against the server's keys, then
# deploy/nginx through `nginx -t` and a live nginx before two stub replicas. A few seconds once the
# tools are in (the first run installs them; nginx-light by apt-get as root).
deploy-check:
	scripts/deploy/check.sh

# The web page's browser tests: Debian's chromium and chromium-driver (installed like the other
# packages), Python selenium, numpy and Pillow (for the test's dataset); a live release server on a
# free loopback port. Screenshots of each step go to .build/browser-screenshots/.
BROWSER_DEB_PACKAGES := chromium chromium-driver
browser-deps:
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="$(BROWSER_DEB_PACKAGES)"
	@python3 -c "import selenium" 2>/dev/null || python3 -m pip install -q selenium
	@python3 -c "import numpy, PIL" 2>/dev/null || python3 -m pip install -q numpy pillow

# Same flags as `make test`, so after it nothing is rebuilt.
browser-test: deps browser-deps
	$(SWIFT) build -c release -Xswiftc -enable-testing --product tagtune
	scripts/ci/watchdog.sh 900 python3 scripts/browser/test_page.py --binary .build/release/tagtune
