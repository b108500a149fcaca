# Tessera in a container: the single binary (build.ts) on a small Debian, the data dir on a volume.
#
#   docker build -t tessera .
#   TOKEN=$(openssl rand -hex 32)
#   docker run -d --name tessera -p 8080:8080 -v tessera-data:/data -e TESSERA_ADMIN_TOKEN="$TOKEN" tessera
#   curl -H "Authorization: Bearer $TOKEN" localhost:8080/api/v1/tables
#
# The server listens on 0.0.0.0 inside the container, and `tessera serve` refuses a non-loopback address unless
# API tokens exist: pass TESSERA_ADMIN_TOKEN (it becomes an admin token on start), or create tokens beforehand
# with `docker run --rm -v tessera-data:/data tessera token create NAME --admin`. Without either, the container
# exits at once with a message saying so; that check is deliberate, do not work around it.

# ---- build: install the locked dependencies and compile the binary
FROM oven/bun:1.4.5 AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Production dependencies only (bun reads package-lock.json). Install scripts are not needed: onnxruntime-node and
# sharp ship their prebuilt linux binaries inside their packages.
RUN bun install --production --ignore-scripts
COPY tsconfig.json build.ts ./
COPY bin ./bin
COPY src ./src
# On amd64 the binary carries onnxruntime-node and sharp natively; elsewhere it is slim (onnxruntime-web, no sharp).
RUN bun build.ts --outfile /out/tessera

# ---- run: the binary alone (no node_modules, no bun); it needs glibc and libstdc++, both in debian-slim
FROM debian:bookworm-slim
RUN groupadd --system --gid 10001 tessera \
 && useradd --system --uid 10001 --gid tessera --home-dir /data --no-create-home tessera \
 && mkdir -p /data && chown tessera:tessera /data
COPY --from=build /out/tessera /usr/local/bin/tessera
USER tessera
ENV TESSERA_HOME=/data \
    TESSERA_PORT=8080
VOLUME /data
EXPOSE 8080
# The binary copies a few embedded files (pgvector, onnxruntime's and libvips' libraries) to $TMPDIR (/tmp) on first
# use: with a read-only root file system, mount a tmpfs there. The data dir takes a kernel lock: run one container per volume
# (a second one is refused with the holder's pid). SIGTERM (docker stop) finishes in-flight requests and closes
# the data dir cleanly.
# The image has no curl: bash's /dev/tcp asks /health (unauthenticated) directly.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && grep -q '\"status\":\"ok\"' <&3"]
# The deploy story: a setup file applied at every start (idempotent: a second apply changes nothing), then serve.
# Mount or COPY your setup as /app/setup.ts (setup files need no imports: `export default async (db) => { ... }`).
COPY --chown=tessera:tessera examples/setup.ts /app/setup.ts
CMD ["sh", "-c", "tessera apply /app/setup.ts && exec tessera serve --host 0.0.0.0"]
