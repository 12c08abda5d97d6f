# vulnsync: one image for the worker and the API; the command chooses.
#   docker build -t vulnsync .
#   docker run vulnsync npm run -s start:migrate   # migrations, explicitly, before a new version starts
#   docker run vulnsync npm run -s start:worker
#   docker run vulnsync                            # the API (the default command)

# Build: dev dependencies, tsc to dist/, and the workflow bundle made ahead of time.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.ts ./scripts/build.ts
COPY src ./src
RUN npm run build

# Runtime: production dependencies and the compiled code only, as the unprivileged `node` user.
# Debian (glibc), not Alpine: the Temporal SDK's native core ships glibc builds.
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
# The API, the worker's health and /metrics, the Temporal SDK's Prometheus exporter.
EXPOSE 8080 9465 9464
ENV VULNSYNC_API_HOST=0.0.0.0 \
    VULNSYNC_WORKER_HEALTH_ADDRESS=0.0.0.0:9465 \
    VULNSYNC_WORKER_METRICS_ADDRESS=0.0.0.0:9464
CMD ["npm", "run", "-s", "start:api"]
