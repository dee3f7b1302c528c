# TagTune container image. Untested here (no Docker engine on the development machines):
# kept in step with the Makefile — same Debian packages, same binary, same configuration path.

# ---- build ----
FROM swift:6.3-bookworm AS build
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libopenblas-dev libdnnl-dev libturbojpeg0-dev libpng-dev zlib1g-dev libssl-dev libsqlite3-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Resolve dependencies in their own layer so source edits do not refetch them.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
RUN swift build -c release --product tagtune --static-swift-stdlib \
 && install -D "$(swift build -c release --show-bin-path)/tagtune" /out/tagtune

# ---- run ----
FROM debian:bookworm-slim
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libopenblas0-pthread libdnnl2 libturbojpeg0 libpng16-16 zlib1g libssl3 libsqlite3-0 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /var/lib/tagtune --uid 10001 tagtune
COPY --from=build /out/tagtune /usr/local/bin/tagtune
WORKDIR /opt/tagtune
COPY Public ./Public
COPY config ./config
# The embedded demo (model, prompt set, examples): config/tagtune.yaml links and copies it into the
# writable folders below at start.
COPY demo/model ./demo/model
COPY demo/prompt-set ./demo/prompt-set
COPY demo/examples ./demo/examples
ENV TAGTUNE_SERVER_HOST=0.0.0.0 \
    TAGTUNE_DATA_DIR=/var/lib/tagtune/data \
    TAGTUNE_MODELS_DIR=/var/lib/tagtune/models
USER tagtune
EXPOSE 8080
# Healthy means ready: the default model and prompt set are loaded and warm (/readyz), not merely
# listening (/healthz). `make test` starts the server as an unprivileged user from root-owned files
# (scripts/probe/run.sh), as this image does.
HEALTHCHECK --interval=30s --timeout=3s --start-period=60s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["tagtune", "serve", "--config", "config/tagtune.yaml"]
