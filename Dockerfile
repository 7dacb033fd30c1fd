# swf-sidecar container image: `serve` by default, the CLI with any other command.
#   docker build -t swf-sidecar .
#   docker run --read-only --cap-drop ALL --security-opt no-new-privileges swf-sidecar
#   docker run swf-sidecar respond-activity-task-failed --task-token ... --reason ...
# The runtime is an in-support Node.js LTS. Move it with --build-arg NODE_IMAGE=..., or pin a
# digest: --build-arg NODE_IMAGE=node:24-bookworm-slim@sha256:<digest>.
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: install with the lock file, compile, keep only production dependencies ----------
FROM ${NODE_IMAGE} AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --no-update-notifier --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && find dist -name '*.map' -delete \
 && npm prune --omit=dev --no-audit --no-fund --no-update-notifier --ignore-scripts \
 && mkdir -p /journal

# ---- runtime: node, the compiled code, its production dependencies and the contract ----------
FROM ${NODE_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE_URL=https://github.com/swf-sidecar/swf-sidecar
LABEL org.opencontainers.image.title="swf-sidecar" \
      org.opencontainers.image.description="gRPC sidecar that forwards activity task failures to Amazon SWF: validated, queued, batched, rate-limited, retried and measured." \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
WORKDIR /app
COPY --from=build /build/node_modules ./node_modules
COPY --from=build /build/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY proto ./proto
# The journal (durable QUEUED reports) is the one path the sidecar writes: owned by its user,
# and a volume, so the root filesystem can be read-only.
COPY --from=build --chown=65532:65532 /journal /var/lib/swf-sidecar
ENV NODE_ENV=production \
    SWF_SIDECAR_JOURNAL_DIR=/var/lib/swf-sidecar
VOLUME ["/var/lib/swf-sidecar"]
# A fixed numeric non-root user (distroless's "nonroot"), so runAsNonRoot can check it.
USER 65532:65532
# gRPC (loopback by default: a pod's containers share one network namespace) and metrics.
EXPOSE 50051 9464
# node itself is PID 1 (no shell, no npm): SIGTERM reaches the sidecar, which drains and exits 0.
# --max-semi-space-size=16 is Node 20's default young generation on Node 24, whose V8 lets it grow
# to 32 MB a semi-space: measured (bench 4 and 3a on Node 24), 50,000 waiting reports take 262 MB
# instead of 349 MB, for about 5% more CPU per accepted call. V8 reads it only at start-up, so it
# cannot be set from the code.
# Not --single-threaded-gc: it keeps garbage collection off V8's helper threads, which cut the
# p99 at 1,000 CONFIRMED calls/s on 2 busy vCPUs (Node 24: 12.2 -> 7.3 ms, 2026-12-05), but
# without concurrent marking old garbage lingers: 50,000 waiting reports took 260-322 MB on
# Node 24 instead of 230-236 MB (bench 4, 2026-12-06), close to the chart's 320Mi limit. The
# chart's sidecar.extraNodeFlags adds it for pods that prefer the tails.
ENTRYPOINT ["node", "--max-semi-space-size=16", "/app/bin/swf-sidecar.js"]
CMD ["serve"]
