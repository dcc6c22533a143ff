#!/bin/sh
# Applies pending migrations before the API or worker starts (a no-op when up to date).
set -e
if [ -n "$DATABASE_URL" ] && [ "${SKIP_MIGRATIONS:-0}" != "1" ]; then
  bun run scripts/migrate.ts
fi
exec "$@"
