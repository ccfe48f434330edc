# syntax=docker/dockerfile:1
#
# StreamGate container image: the one `streamgate` binary, the demo stream and the
# default streamgate.toml. The same image runs every role; the command picks it:
#
#   docker build -t streamgate .
#   docker run --rm -p 3000:3000 -p 4000:4000 -v streamgate-data:/app/data streamgate
#       -> `streamgate up` (topology A): platform and HLS server in one process, the
#          SQLite database and development secrets in /app/data
#   docker run ... streamgate platform   # the platform alone (port 3000)
#   docker run ... streamgate hls        # the HLS server alone (port 4000)
#   docker run ... streamgate ingest     # live ingest alone, on an origin box
#
# Live ingest listens on each event's [events.ingest] port: publish it too, e.g.
# `-p 9000:9000/udp` for SRT or `-p 1935:1935` for RTMP.
#
# Configuration: mount your own file over /app/streamgate.toml (read-only is fine),
# or point STREAMGATE_CONFIG / --config elsewhere. Secrets never go in the image or
# the file: pass PLAYBACK_SIGNING_SECRET, INTERNAL_API_KEY and ADMIN_PASSWORD_HASH in
# the environment, or as *_FILE paths to mounted secrets (see docker-compose.yml).

# --- build -----------------------------------------------------------------------
FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
# The cache mounts keep the crates.io downloads and the target directory between
# builds, so a source change recompiles only the workspace crates. The binary is
# copied out of the cached target directory, which is not part of the image layer.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p streamgate-cli \
    && install -D -m 0755 target/release/streamgate /out/streamgate

# --- runtime ---------------------------------------------------------------------
FROM debian:bookworm-slim

# ca-certificates for outgoing TLS connections; curl only for the HEALTHCHECK below;
# ffmpeg for live ingest (events with [events.ingest]: SRT/RTMP listeners, x264, AAC).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl ffmpeg \
    && rm -rf /var/lib/apt/lists/*

# A fixed, unprivileged uid so that host files (mounted secrets, volumes) can be
# given to it: `chown 10001 secrets/*`.
RUN groupadd --system --gid 10001 streamgate \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin streamgate

WORKDIR /app
COPY --from=builder /out/streamgate /usr/local/bin/streamgate
# Defaults that make `streamgate up` work on a fresh volume: the demo event's
# configuration (relative paths resolve against /app) and its sample stream.
COPY streamgate.toml /app/streamgate.toml
COPY streams/ /app/streams/
# data/: SQLite database (sqlite://data/streamgate.db) and, for `up` without secrets,
# data/dev-secrets.env. cache/: segment cache of proxied streams when
# SEGMENT_CACHE_ROOT=/app/cache. Both owned by the service user, so a new named
# volume mounted there starts writable.
RUN mkdir -p /app/data /app/cache \
    && chown streamgate:streamgate /app/data /app/cache
VOLUME ["/app/data"]

USER streamgate:streamgate
# 3000: platform (`platform.listen`), 4000: HLS server (`hls.listen`, or PORT). Named
# here so that `up` on development secrets, which otherwise keeps to 127.0.0.1, is
# reachable through the container's published ports.
ENV STREAMGATE_PLATFORM__LISTEN=0.0.0.0:3000 STREAMGATE_HLS__LISTEN=0.0.0.0:4000
EXPOSE 3000 4000

# The platform's /health answers 200 when its database is reachable, 503 when not.
# A container running `streamgate hls` has no platform: override the check there
# (docker-compose.yml does, with http://127.0.0.1:4000/health).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD curl -fsS -o /dev/null http://127.0.0.1:3000/health || exit 1

ENTRYPOINT ["streamgate"]
CMD ["up"]
