# syntax=docker/dockerfile:1
# API by default; the worker with: docker run <image> bun run src/worker.ts

FROM oven/bun:1.4.5 AS deps
WORKDIR /app
COPY package.json bun.lock ./
# bun applies package.json's patchedDependencies while installing: the patches come first.
COPY patches ./patches
RUN bun install --frozen-lockfile --production

FROM oven/bun:1.4.5-slim AS runtime
WORKDIR /app
# The container is the boundary: listen on its every interface, embedded mode too.
ENV NODE_ENV=production PORT=3000 HOST=0.0.0.0
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY drizzle ./drizzle
COPY src ./src
COPY scripts ./scripts
COPY docker-entrypoint.sh ./
# Embedded mode (no DATABASE_URL) keeps its database in ./data: the one folder the user writes.
RUN mkdir data && chown bun:bun data
USER bun
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s CMD bun -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
ENTRYPOINT ["./docker-entrypoint.sh"]
CMD ["bun", "run", "src/index.ts"]
