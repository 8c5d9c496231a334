# One image for every Ripen service; docker-compose.yml picks the entry point per service.
# No build step: TypeScript runs through tsx, as in development.
FROM node:20-slim

WORKDIR /app
COPY . .
# devDependencies stay: tsx (the runtime loader) is one of them.
RUN npm ci --no-audit --no-fund && npm cache clean --force

USER node
ENV LOG_LEVEL=info
EXPOSE 3000 3001 3100
# `node --import tsx` keeps one process per container, so SIGTERM reaches the app directly.
CMD ["node", "--import", "tsx", "apps/api/src/main.ts"]
