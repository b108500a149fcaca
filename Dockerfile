# Tessera in a container: the single binary (build.ts) on a small Debian with ffmpeg, the data dir on a volume.
#
#   docker build -t tessera .
#   TOKEN=$(openssl rand -hex 32)
#   docker run -d --name tessera -p 8080:8080 -v tessera-data:/data -e TESSERA_ADMIN_TOKEN="$TOKEN" tessera
#   curl -H "Authorization: Bearer $TOKEN" localhost:8080/api/v1/dirs
#
# The server listens on 0.0.0.0 inside the container, and `tessera serve` refuses a non-loopback address unless
# API tokens exist: pass TESSERA_ADMIN_TOKEN (it becomes an admin token on start), or create tokens beforehand
# with `docker run --rm -v tessera-data:/data tessera token create NAME --admin`. Without either, the container
# exits at once with a message saying so; that check is deliberate, do not work around it.
#
# Architectures (what build.ts does): on linux/amd64 and linux/arm64 the binary carries onnxruntime-node and sharp
# natively (the libraries of the platform the build runs on; the arm64 layout is assumed, only amd64 is tested). Build
# each platform on (or emulated as) that platform, e.g. `docker buildx build --platform linux/arm64 .`;
# --build-arg BUILD_FLAGS=--slim gives a binary without native libraries (onnxruntime-web, sharp as wasm: README).

# ---- build: the locked dependencies (npm ci: package-lock.json exactly, or the build fails), then the binary
FROM node:22-bookworm-slim AS build
COPY --from=oven/bun:1.4.5 /usr/local/bin/bun /usr/local/bin/bun
WORKDIR /src
COPY package.json package-lock.json ./
# Production dependencies plus nothing else; install scripts are not needed (onnxruntime-node and sharp ship their
# prebuilt linux binaries inside their packages; ONNXRUNTIME_NODE_INSTALL=skip keeps onnxruntime-node offline).
ENV ONNXRUNTIME_NODE_INSTALL=skip
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY tsconfig.json build.ts ./
COPY bin ./bin
COPY src ./src
ARG BUILD_FLAGS=""
RUN bun build.ts --outfile /out/tessera $BUILD_FLAGS

# ---- run: the binary alone (no node_modules, no bun), ffmpeg for video frames and non-WAV audio
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 tessera \
 && useradd --system --uid 10001 --gid tessera --home-dir /data --no-create-home tessera \
 && mkdir -p /data && chown tessera:tessera /data
COPY --from=build /out/tessera /usr/local/bin/tessera
USER tessera
ENV TESSERA_HOME=/data \
    TESSERA_PORT=8080 \
    TESSERA_SETUP=/app/setup.ts
VOLUME /data
EXPOSE 8080
# The binary copies a few embedded files (pgvector, onnxruntime's and libvips' libraries) to $TMPDIR (/tmp) on first
# use: with a read-only root file system, mount a tmpfs there. The data dir takes a kernel lock: run one container
# per volume (a second one is refused with the holder's pid). SIGTERM (docker stop) drains: new requests get 503 at
# once, in-flight ones get --drain-timeout (30 s) to finish, then the data dir closes. Docker's own grace period is
# 10 s: stop with `docker stop -t 35` (compose.yaml sets stop_grace_period: 35s, the Kubernetes examples 60 s).
STOPSIGNAL SIGTERM
# The image has no curl: bash's /dev/tcp asks /health (unauthenticated) on the port the server was given.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${TESSERA_PORT:-8080} && printf 'GET /health HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && grep -q '\"status\":\"ok\"' <&3"]
# The deploy story: your setup file, when you mount one at $TESSERA_SETUP (-v ./setup.ts:/app/setup.ts:ro), is
# applied at every start (idempotent: a second apply changes nothing), then the server starts. Without one, nothing
# is created: no example tables. Inside a setup file, `import ... from 'tessera'` is this binary's own Tessera.
CMD ["sh", "-c", "if [ -f \"$TESSERA_SETUP\" ]; then tessera apply \"$TESSERA_SETUP\" || exit 1; fi; exec tessera serve --host 0.0.0.0"]
