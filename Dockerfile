# syntax=docker/dockerfile:1
# One image per app, from one Dockerfile:
#   docker build --build-arg APP=order -t oms/order .
# APP is one of gateway, order, stock, menu, payment, kitchen (the Nx project under apps/).
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- deps: every dependency (dev included), for the build; cached until the lockfile changes
FROM ${NODE_IMAGE} AS deps
WORKDIR /repo
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# ---- prod-deps: only what the bundles require at run time (esbuild leaves packages external
# so that OpenTelemetry can instrument them when they are required)
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /repo
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- build: typecheck and bundle the one app into dist/apps/$APP/main.js
FROM deps AS build
ARG APP
RUN test -n "$APP" || { echo 'set --build-arg APP=<gateway|order|stock|menu|payment|kitchen>' >&2; exit 1; }
COPY . .
ENV NX_DAEMON=false NX_NO_CLOUD=true
RUN npx nx run "${APP}:build" --outputStyle=static && test -f "dist/apps/${APP}/main.js"

# ---- runtime: node, production node_modules and one bundle; runs as the unprivileged `node` user
FROM ${NODE_IMAGE} AS runtime
ARG APP
ENV NODE_ENV=production APP=${APP}
WORKDIR /app
COPY --from=prod-deps /repo/node_modules ./node_modules
COPY --from=build /repo/package.json ./package.json
COPY --from=build /repo/proto ./proto
# the app's bundle, and what its build built beside it (the gateway serves dist/apps/console)
COPY --from=build /repo/dist/apps ./dist/apps
USER node
# gateway: 8080 (HTTP); order..kitchen: 50051..50055 (gRPC); 9464: metrics when METRICS_PORT=9464
EXPOSE 8080 50051 50052 50053 50054 50055 9464
# exec: node is PID 1's child under `init: true` (or PID 1) and receives SIGTERM for a graceful drain
# --max-semi-space-size: tools/services.mjs SERVICE_NODE_FLAGS says why
CMD ["sh", "-c", "exec node --max-semi-space-size=32 dist/apps/${APP}/main.js"]
