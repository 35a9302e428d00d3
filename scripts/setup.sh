#!/usr/bin/env bash
# Set up everything the archive needs on a Debian or Ubuntu machine, idempotently.
#
#   scripts/setup.sh            install what is missing, start services, create roles, database,
#                               virtualenv, apply migrations; say what was done and what skipped
#
# Runs as root, or as a user with sudo. Safe to rerun: a second run changes nothing and says so.
# Settings come from the environment (LICK_*) or var/lick.env, which this script creates.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VAR="$REPO/var"
ENV_FILE="${LICK_ENV_FILE:-$VAR/lick.env}"
CHANGED=0

did()  { printf '  did:     %s\n' "$*"; CHANGED=1; }
skip() { printf '  skipped: %s\n' "$*"; }
die()  { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" = 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  die "not root and no sudo: run as root, or install sudo and give this user sudo rights"
fi
as_root() { "${SUDO[@]}" "$@"; }
as_postgres() {  # from /, which the postgres user can always enter
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else (cd / && sudo -u postgres "$@"); fi
}

command -v apt-get >/dev/null 2>&1 || die "apt-get not found: this script supports Debian and Ubuntu"

# ------------------------------------------------------------------ settings ----------------------
mkdir -p "$VAR" 2>/dev/null || die "cannot create $VAR: make the checkout writable by $(id -un)"
if [ ! -f "$ENV_FILE" ]; then
  gen() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
  umask 077
  cat > "$ENV_FILE" <<EOF
# Written by scripts/setup.sh; local settings of this checkout. Environment variables win.
LICK_OWNER_PASSWORD=$(gen)
LICK_INGEST_PASSWORD=$(gen)
LICK_QUERY_PASSWORD=$(gen)
LICK_SECRET_KEY=$(gen)$(gen)
LICK_INGEST_TOKEN=$(gen)
EOF
  umask 022
  did "wrote generated passwords to ${ENV_FILE#$REPO/}"
else
  skip "${ENV_FILE#$REPO/} exists"
fi
set -a
# shellcheck disable=SC1090
. "$ENV_FILE"
set +a
DB_HOST=${LICK_DB_HOST:-127.0.0.1}
DB_PORT=${LICK_DB_PORT:-5432}
DB_NAME=${LICK_DB_NAME:-lick_archive}
OWNER=${LICK_OWNER_ROLE:-lick_owner}
INGEST=${LICK_INGEST_ROLE:-lick_ingest}
QUERY=${LICK_QUERY_ROLE:-lick_query}
REDIS_URL=${LICK_REDIS_URL:-redis://127.0.0.1:6379/0}
LOCAL_DB=0
case "$DB_HOST" in 127.0.0.1|localhost|::1) LOCAL_DB=1 ;; esac

# ------------------------------------------------------------------ packages ----------------------
APT_UPDATED=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if [ ${#missing[@]} = 0 ]; then
    skip "packages already installed: $*"
    return 0
  fi
  if [ $APT_UPDATED = 0 ]; then
    as_root apt-get update -qq >/dev/null 2>&1 || die "apt-get update failed: check the network and /etc/apt/sources.list"
    APT_UPDATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >"$VAR/apt.log" 2>&1 || die "apt-get install ${missing[*]} failed (see var/apt.log)"
  did "installed ${missing[*]}"
}

echo "Packages"
apt_install python3-venv redis-server stilts
# The portal's browser tests drive Debian's Chromium (Playwright cannot download browsers here);
# jsamp runs a headless SAMP hub for the portal's SAMP test.
apt_install chromium chromium-driver jsamp
# libfaketime: tests/test_clock_skew.py runs a web server with its clock 10 minutes off.
apt_install faketime
if [ $LOCAL_DB = 1 ]; then
  # The major version is that of the server that will run: an existing cluster's, else the
  # distribution's default (15 on Debian 12, 17 on Debian 13).
  PG_MAJOR=""
  if command -v pg_lsclusters >/dev/null 2>&1; then
    PG_MAJOR=$(pg_lsclusters -h 2>/dev/null | awk '$2=="main"{print $1}' | sort -n | tail -1)
  fi
  if [ -z "$PG_MAJOR" ]; then
    apt_install postgresql
    PG_MAJOR=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
  fi
  [ -n "$PG_MAJOR" ] || die "no PostgreSQL server found after installing 'postgresql'"
  apt_install "postgresql-$PG_MAJOR" "postgresql-$PG_MAJOR-pgsphere" postgresql-client
  echo "  PostgreSQL major version: $PG_MAJOR"

  # Newer PostgreSQL releases refuse the two obsolete
  # `@ (…, smoc)` operators of pgsphere 1.2.0's script; remove them where present.
  SQLFILE=/usr/share/postgresql/$PG_MAJOR/extension/pg_sphere--1.2.0.sql
  if [ -f "$SQLFILE" ] && grep -q 'PROCEDURE  = spoint_subset_smoc' "$SQLFILE" \
      && grep -Pzoq 'CREATE OPERATOR @ \(\s*LEFTARG\s*=\s*(bigint|spoint),\s*RIGHTARG\s*=\s*smoc' "$SQLFILE"; then
    as_root python3 "$REPO/scripts/patch_pgsphere.py" "$SQLFILE" >/dev/null || die "could not patch $SQLFILE"
    did "removed the obsolete smoc '@' operators from ${SQLFILE##*/}"
  else
    skip "pgsphere script needs no patch"
  fi
fi

# ------------------------------------------------------------------ services ----------------------
echo "Services"
if [ $LOCAL_DB = 1 ]; then
  if ! pg_lsclusters -h 2>/dev/null | awk -v v="$PG_MAJOR" '$1==v && $2=="main"' | grep -q .; then
    as_root pg_createcluster "$PG_MAJOR" main >/dev/null || die "pg_createcluster $PG_MAJOR main failed"
    did "created PostgreSQL cluster $PG_MAJOR/main"
  fi
  if pg_lsclusters -h | awk -v v="$PG_MAJOR" '$1==v && $2=="main" {print $4}' | grep -q online; then
    skip "PostgreSQL $PG_MAJOR/main is running"
  else
    as_root pg_ctlcluster --skip-systemctl-redirect "$PG_MAJOR" main start 2>"$VAR/pg_start.log" \
      || die "PostgreSQL $PG_MAJOR/main did not start (see var/pg_start.log; is port $DB_PORT in use?)"
    did "started PostgreSQL $PG_MAJOR/main"
  fi
fi
redis_ping() { python3 - "$REDIS_URL" <<'EOF'
import socket, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
try:
    s = socket.create_connection((u.hostname or "127.0.0.1", u.port or 6379), timeout=2)
    s.sendall(b"PING\r\n")
    sys.exit(0 if s.recv(16).startswith(b"+PONG") else 1)
except OSError:
    sys.exit(1)
EOF
}
if redis_ping; then
  skip "Redis answers at $REDIS_URL"
else
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/lick.log >/dev/null 2>&1
  for _ in 1 2 3 4 5 6 7 8 9 10; do redis_ping && break; sleep 0.5; done
  redis_ping || die "Redis did not start at $REDIS_URL (see /var/log/redis/lick.log; is port 6379 in use?)"
  did "started Redis"
fi

# ------------------------------------------------------------------ roles and database ------------
echo "Database"
if [ $LOCAL_DB = 1 ]; then
  psql_su() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$DB_PORT" "$@"; }
  psql_su -d postgres -tAc 'SELECT 1' >/dev/null 2>&1 \
    || die "cannot connect to PostgreSQL as the postgres superuser on port $DB_PORT"
  ensure_role() {  # name password extra-attributes
    local exists
    exists=$(psql_su -d postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$1'")
    if [ "$exists" != 1 ]; then
      psql_su -d postgres -c "CREATE ROLE \"$1\" LOGIN $3 PASSWORD '$2'" || die "could not create role $1"
      did "created role $1"
    elif ! PGPASSWORD="$2" psql -X -h "$DB_HOST" -p "$DB_PORT" -U "$1" -d postgres -tAc 'SELECT 1' >/dev/null 2>&1; then
      psql_su -d postgres -c "ALTER ROLE \"$1\" LOGIN $3 PASSWORD '$2'" >/dev/null || die "could not update role $1"
      did "reset the password of role $1 to the one in ${ENV_FILE#$REPO/}"
    else
      skip "role $1 exists"
    fi
  }
  ensure_role "$OWNER" "$LICK_OWNER_PASSWORD" CREATEDB
  ensure_role "$INGEST" "$LICK_INGEST_PASSWORD" ""
  ensure_role "$QUERY" "$LICK_QUERY_PASSWORD" ""
  # The owner cancels runaway queries and closes sessions before dropping scratch databases.
  if [ "$(psql_su -d postgres -tAc "SELECT pg_has_role('$OWNER', 'pg_signal_backend', 'MEMBER')")" = t ]; then
    skip "role $OWNER may signal other sessions"
  else
    psql_su -d postgres -c "GRANT pg_signal_backend TO \"$OWNER\"" >/dev/null
    did "let role $OWNER cancel other roles' queries (pg_signal_backend)"
  fi
  # It also watches them (pg_stat_activity shows other roles' sessions' state only to members).
  if [ "$(psql_su -d postgres -tAc "SELECT pg_has_role('$OWNER', 'pg_read_all_stats', 'MEMBER')")" = t ]; then
    skip "role $OWNER may read other sessions' activity"
  else
    psql_su -d postgres -c "GRANT pg_read_all_stats TO \"$OWNER\"" >/dev/null
    did "let role $OWNER read other roles' session activity (pg_read_all_stats)"
  fi
  # The owner may hand its objects' privileges to the other two (GRANT needs no membership),
  # and test databases are cloned from a template that already holds pg_sphere, since only a
  # superuser may create that extension.
  ensure_database() {  # name template
    if [ "$(psql_su -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$1'")" = 1 ]; then
      skip "database $1 exists"
    else
      psql_su -d postgres -c "CREATE DATABASE \"$1\" OWNER \"$OWNER\" TEMPLATE $2" \
        || die "could not create database $1"
      did "created database $1"
    fi
  }
  ensure_database lick_template template1
  if [ "$(psql_su -d lick_template -tAc "SELECT 1 FROM pg_extension WHERE extname = 'pg_sphere'")" = 1 ]; then
    skip "pg_sphere is installed in lick_template"
  else
    psql_su -d lick_template -c 'CREATE EXTENSION pg_sphere' 2>"$VAR/pgsphere.log" \
      || die "CREATE EXTENSION pg_sphere failed (see var/pgsphere.log): is postgresql-$PG_MAJOR-pgsphere installed?"
    did "created extension pg_sphere in lick_template"
  fi
  if [ "$(psql_su -d postgres -tAc "SELECT datistemplate FROM pg_database WHERE datname = 'lick_template'")" = t ]; then
    skip "lick_template is a template"
  else
    psql_su -d postgres -c "ALTER DATABASE lick_template IS_TEMPLATE true" >/dev/null
    did "marked lick_template as a template"
  fi
  ensure_database "$DB_NAME" lick_template
  # Spatial indexes must keep working under the access filter (scripts/leakproof.sql).
  LEAKY_SQL="SELECT count(*) FROM pg_proc WHERE NOT proleakproof AND oid IN ($(
    sed -n 's/^ALTER FUNCTION \(.*)\) LEAKPROOF;$/'"'"'\1'"'"'::regprocedure/p' "$REPO/scripts/leakproof.sql" | paste -sd,))"
  for db in lick_template "$DB_NAME"; do
    if [ "$(psql_su -d "$db" -tAc "$LEAKY_SQL")" = 0 ]; then
      skip "pgsphere index operators are LEAKPROOF in $db"
    else
      psql_su -d "$db" <"$REPO/scripts/leakproof.sql" >/dev/null || die "could not mark pgsphere functions LEAKPROOF in $db"
      did "marked the pgsphere index operators LEAKPROOF in $db"
    fi
  done
  # Any SQL that runs as the query role must not see or signal other sessions, nor create
  # lasting objects (scripts/harden.sql; issue 13). Checked as the query role's privileges.
  OPEN_SQL="SELECT has_table_privilege('$QUERY', 'pg_catalog.pg_stat_activity', 'SELECT')
    OR has_function_privilege('$QUERY', 'pg_catalog.pg_stat_get_activity(integer)', 'EXECUTE')
    OR has_function_privilege('$QUERY', 'pg_catalog.pg_stat_get_backend_activity(integer)', 'EXECUTE')
    OR has_function_privilege('$QUERY', 'pg_catalog.pg_cancel_backend(integer)', 'EXECUTE')
    OR has_function_privilege('$QUERY', 'pg_catalog.pg_terminate_backend(integer, bigint)', 'EXECUTE')
    OR has_function_privilege('$QUERY', 'pg_catalog.lo_creat(integer)', 'EXECUTE')
    OR has_function_privilege('$QUERY', 'pg_catalog.lo_create(oid)', 'EXECUTE')
    OR has_function_privilege('$QUERY', 'pg_catalog.lo_from_bytea(oid, bytea)', 'EXECUTE')
    OR has_database_privilege('$QUERY', current_database(), 'CREATE')
    OR has_schema_privilege('$QUERY', 'public', 'CREATE')
    OR NOT has_function_privilege('$OWNER', 'pg_catalog.pg_terminate_backend(integer, bigint)', 'EXECUTE')"
  for db in lick_template "$DB_NAME"; do
    if [ "$(psql_su -d "$db" -tAc "$OPEN_SQL")" = f ]; then
      skip "role $QUERY sees and signals no other session and creates nothing lasting in $db"
    else
      psql_su -d "$db" -v owner="$OWNER" <"$REPO/scripts/harden.sql" >/dev/null \
        || die "could not apply scripts/harden.sql to $db"
      did "took from role $QUERY other sessions' activity, signals and lasting objects in $db"
    fi
  done
  # Users' queries are short and many: JIT compilation costs more than it saves.
  if [ "$(psql_su -d postgres -tAc "SELECT 1 FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = '$QUERY' AND 'jit=off' = ANY (s.setconfig)")" = 1 ]; then
    skip "JIT is off for role $QUERY"
  else
    psql_su -d postgres -c "ALTER ROLE \"$QUERY\" SET jit = off" >/dev/null
    did "turned JIT off for role $QUERY"
  fi
else
  skip "database host $DB_HOST is remote: roles, database and pg_sphere are the DBA's job there"
fi

# ------------------------------------------------------------------ virtualenv --------------------
echo "Python"
VENV="$REPO/.venv"
STAMP="$VENV/.lick-installed"
WANT=$(sha256sum "$REPO/pyproject.toml" | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV" || die "python3 -m venv failed: install python3-venv"
  did "created .venv"
fi
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
  skip ".venv has the project installed"
else
  "$VENV/bin/pip" install -q --upgrade pip >"$VAR/pip.log" 2>&1
  "$VENV/bin/pip" install -q -e "$REPO[dev]" >>"$VAR/pip.log" 2>&1 \
    || die "pip install -e .[dev] failed (see var/pip.log)"
  echo "$WANT" > "$STAMP"
  did "installed the project with [dev] into .venv"
fi

# ------------------------------------------------------------------ migrations --------------------
echo "Migrations"
MIGRATE_OUT=$("$VENV/bin/lick-admin" migrate) || die "migrations failed (see the message above)"
echo "$MIGRATE_OUT"
case "$MIGRATE_OUT" in *"did:"*) CHANGED=1 ;; esac

if [ $CHANGED = 0 ]; then
  echo "Set-up: nothing to do, everything was in place."
else
  echo "Set-up: done."
fi
