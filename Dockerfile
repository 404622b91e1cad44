# The llm-tracker usage worker: reads usage events from the Redis queue and
# writes them to Postgres, serving /healthz and /metrics on port 9464.
#   docker build -t llm-tracker-worker .
#   docker run --rm -e REDIS_URL=redis://redis:6379 -e DATABASE_URL=postgres://… -p 9464:9464 llm-tracker-worker

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: dev dependencies (TypeScript) and the compiled dist/ ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workers ./workers
RUN npm run build

# ---- runtime: production dependencies, dist/ and the SQL migrations only ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    LLM_TRACKER_HTTP_PORT=9464
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY drizzle ./drizzle
# A heap limit keeps the worker's RSS under ~200 MB at full ingest: without one V8
# lets the old generation grow to ~150 MB, mostly garbage, while the live heap peaks
# near 30 MB (see docs/benchmarks.md). As an environment variable, so a
# deployment can raise it (`-e NODE_OPTIONS=…`); keep it equal to the flag in
# package.json's `start` script (the benchmark checks). Set after `npm ci`,
# which must not run under the worker's limit.
ENV NODE_OPTIONS=--max-old-space-size=128
# The image's unprivileged `node` user (uid 1000); nothing here needs root.
RUN mkdir -p /home/node/.llm-tracker/spool && chown -R node:node /home/node/.llm-tracker
USER node
EXPOSE 9464
# Healthy only when Redis and Postgres answer and the worker is taking jobs (see /healthz).
# With LLM_TRACKER_HTTP_PORT=0 there is no endpoint: turn this check off too (`--no-healthcheck`).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.LLM_TRACKER_HTTP_PORT||9464}/healthz`).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Runs the shipped migrations (advisory-locked, so replicas may start together), then takes jobs.
CMD ["node", "dist/src/cli/main.js", "worker"]
