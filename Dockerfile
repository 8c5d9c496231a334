# One image for every Ripen service; docker-compose.yml picks the entry point per service.
# Built in two stages: the first compiles each service to one JavaScript file (`npm run build`,
# esbuild); the second holds those files, the production dependencies and the few files the
# services read at run time (migrations, the sandbox's sample media), and runs as `node`.

FROM node:20-slim AS build
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund && npm run build

FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production LOG_LEVEL=info
# Every service's Node flags: SERVICE_NODE_FLAGS in packages/infra/src/process.ts says why.
ENV NODE_OPTIONS=--max-semi-space-size=32
# The manifests first, so the production install is cached while only the code changes.
COPY package.json package-lock.json ./
COPY apps/api/package.json apps/api/
COPY apps/callbacks/package.json apps/callbacks/
COPY apps/cli/package.json apps/cli/
COPY apps/console/package.json apps/console/
COPY apps/sandbox/package.json apps/sandbox/
COPY apps/stack/package.json apps/stack/
COPY apps/worker/package.json apps/worker/
COPY packages packages
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# The bundles name their sources' own paths (/app/…) to find these, so WORKDIR stays /app.
COPY --from=build /app/dist dist
COPY --from=build /app/migrations migrations
COPY --from=build /app/apps/sandbox/assets apps/sandbox/assets
USER node
EXPOSE 3000 3001 3100
# One node process per container, so SIGTERM reaches the service directly.
CMD ["node", "--enable-source-maps", "dist/api/main.mjs"]
