# syntax=docker/dockerfile:1
# The Agnes image (spec 13 §1): `agnes serve` by default, and every other `agnes` command with its
# name as the container's command (`docker run … agnes:local migrate --status`).

# The base of both npm installs: better-sqlite3 builds itself with node-gyp when no prebuilt
# binary fits the platform, so the compiler is there; it stays out of the runtime image.
FROM node:20-bookworm-slim AS toolchain
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./

# Compiles the TypeScript with the dev dependencies.
FROM toolchain AS build
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json tsconfig.client.json ./
COPY src ./src
RUN npm run build

# The production dependencies alone, on the runtime's own base image, so the native modules
# (@duckdb/node-api, better-sqlite3, @node-rs/argon2) fit its platform and C library.
FROM toolchain AS production-dependencies
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
# bubblewrap isolates admin scripts (they are refused without it), python3 runs the python ones,
# prlimit (util-linux, already in the base image) caps their memory. The user agnes has a home for
# what DuckDB keeps there (installed extensions).
RUN apt-get update \
  && apt-get install -y --no-install-recommends bubblewrap python3 ca-certificates \
  && rm -rf /var/lib/apt/lists/* \
  && groupadd --gid 10001 agnes \
  && useradd --uid 10001 --gid agnes --create-home --home-dir /home/agnes --shell /usr/sbin/nologin agnes \
  && mkdir /data \
  && chown agnes:agnes /data
WORKDIR /app
ENV NODE_ENV=production \
  DATA_DIR=/data
# At run time the package reads its package.json (version), dist/ (the server, the browser modules
# and the `da` skills copied there by the build) and node_modules (also what admin scripts import).
COPY --from=production-dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY docker/healthcheck.mjs ./docker/healthcheck.mjs
USER agnes
# A named volume mounted here starts with the image's /data, so it belongs to agnes.
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "/app/docker/healthcheck.mjs"]
ENTRYPOINT ["node", "/app/dist/bin/agnes.js"]
CMD ["serve"]
