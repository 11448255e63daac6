#!/usr/bin/env bash
# Back up the warnex database into one compressed custom-format archive.
#
#   DATABASE_URL=postgresql://warnex:...@db/warnex deploy/backup.sh [FILE]
#
# Writes FILE (default warnex-YYYYmmddTHHMMSSZ.dump in the current directory)
# and prints its path. The archive is written under a temporary name and
# renamed once pg_restore can read its table of contents, so a FILE that exists
# is a whole backup. pg_dump takes one consistent snapshot while the services
# keep running. PG_BIN names the folder of pg_dump/pg_restore when they are not
# on PATH; their major version must match the server's.
#
# The archive holds ID numbers only as keyed hashes and sealed copies: it is
# useless without WARNEX_SECRET_KEY, which must be kept (apart) as well.
set -euo pipefail

: "${DATABASE_URL:?set DATABASE_URL to the database to back up}"
bin="${PG_BIN:+${PG_BIN%/}/}"
# SQLAlchemy's driver suffix means nothing to libpq.
url="${DATABASE_URL/#postgresql+asyncpg:/postgresql:}"
out="${1:-warnex-$(date -u +%Y%m%dT%H%M%SZ).dump}"
partial="$out.partial"
trap 'rm -f "$partial"' EXIT

"${bin}pg_dump" --format=custom --compress=6 --no-owner --no-privileges \
  --file="$partial" --dbname="$url"
"${bin}pg_restore" --list "$partial" >/dev/null
mv "$partial" "$out"
echo "$out"
