#!/usr/bin/env bash
# Starts a PostgreSQL server on 127.0.0.1 for the store tests (Debian's postgresql package) and prints the line
#   export TESSERA_TEST_DATABASE_URL=postgres://tessera:tessera@127.0.0.1:PORT/tessera_test
# Idempotent: an already running server is reused, so a second run takes well under a second.
# Usage: eval "$(test/store/start-postgres.sh)"
set -euo pipefail
PORT="${TESSERA_TEST_PG_PORT:-5432}"
log() { echo "start-postgres: $*" >&2; }
# Only the export line may reach stdout (the caller evals it): everything the Debian tools print goes to stderr
# (pg_ctlcluster says "Removed stale pid file" when a previous server was killed, which once broke CI's eval).
exec 3>&1 1>&2

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  log "installing postgresql (apt)"
  export DEBIAN_FRONTEND=noninteractive
  (apt-get install -y -q postgresql >/dev/null 2>&1) || (apt-get update -q >/dev/null && apt-get install -y -q postgresql >/dev/null)
fi
# pgvector when the distribution has it (Debian bookworm's main archive does not; the vector tests use PGlite).
if apt-cache show postgresql-15-pgvector >/dev/null 2>&1 && [ ! -e /usr/share/postgresql/15/extension/vector.control ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql-15-pgvector >/dev/null 2>&1 || log "pgvector not installed"
fi

as_postgres() { if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi; }

if ! pg_isready -q -h 127.0.0.1 -p "$PORT"; then
  VER="$(ls /usr/lib/postgresql | sort -n | tail -1)"
  if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$VER main"; then
    log "creating cluster $VER/main"
    pg_createcluster "$VER" main -p "$PORT" >/dev/null
  fi
  log "starting cluster $VER/main on 127.0.0.1:$PORT"
  # 3>&-: the server must not hold the caller's stdout pipe open, or $(...) would wait forever.
  pg_ctlcluster "$VER" main start -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c max_connections=200" 3>&-
  for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 -p "$PORT" && break; sleep 0.2; done
fi

as_postgres psql -q -p "$PORT" -h /var/run/postgresql -v ON_ERROR_STOP=1 -d postgres >/dev/null <<'SQL'
do $$ begin
  if not exists (select from pg_roles where rolname = 'tessera') then
    create role tessera login password 'tessera' createdb;
  end if;
end $$;
select 'create database tessera_test owner tessera' where not exists (select from pg_database where datname = 'tessera_test') \gexec
SQL
echo >&3 "export TESSERA_TEST_DATABASE_URL=postgres://tessera:tessera@127.0.0.1:$PORT/tessera_test"
