#!/usr/bin/env bash
# Restore a deploy/backup.sh archive into a fresh, empty database, then bring
# its schema up to this release with `warnex migrate`.
#
#   createdb warnex_restored      # or CREATE DATABASE ... on the server
#   DATABASE_URL=postgresql://warnex:...@db/warnex_restored \
#   WARNEX_SECRET_KEY=... deploy/restore.sh FILE
#
# Refuses a database that already holds tables. The restore runs in one
# transaction: it lands whole or not at all. Then point the services at the
# database (or rename it) and start them. PG_BIN names the folder of
# pg_restore/psql when they are not on PATH; WARNEX names the warnex command
# (default: `warnex` on PATH). WARNEX_SECRET_KEY must be the one the backup's
# data was written under.
set -euo pipefail

file="${1:?usage: restore.sh BACKUP_FILE (DATABASE_URL names the empty target database)}"
: "${DATABASE_URL:?set DATABASE_URL to the fresh database to restore into}"
: "${WARNEX_SECRET_KEY:?set WARNEX_SECRET_KEY: the secret the backup was written under}"
bin="${PG_BIN:+${PG_BIN%/}/}"
warnex="${WARNEX:-warnex}"
url="${DATABASE_URL/#postgresql+asyncpg:/postgresql:}"

[ -r "$file" ] || { echo "restore.sh: cannot read $file" >&2; exit 2; }
"${bin}pg_restore" --list "$file" >/dev/null

tables="$("${bin}psql" --no-psqlrc --quiet --tuples-only --no-align --dbname="$url" \
  --command="SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")"
if [ "$tables" != "0" ]; then
  echo "restore.sh: the target database already holds $tables tables; restore into a fresh one" >&2
  exit 3
fi

"${bin}pg_restore" --no-owner --no-privileges --exit-on-error --single-transaction \
  --dbname="$url" "$file"
# pg_restore leaves the planner without statistics.
"${bin}psql" --no-psqlrc --quiet --dbname="$url" --command="ANALYZE" >/dev/null
DATABASE_URL="$url" "$warnex" migrate
echo "restored $file"
