#!/usr/bin/env bash
# Set up, load the demo data through the real ingest path, and serve the archive.
#
#   scripts/run.sh [--host 127.0.0.1] [--port 8000] [--files 2000] [--check]
#
#   --host, --port   where gunicorn listens (default loopback:8000; also LICK_HOST, LICK_PORT)
#   --files N        size of the demo tree generated when the archive root holds none
#   --check          start everything, check that each service answers, stop, and exit 0/1
#
# Stops everything it started on Ctrl-C.
set -uo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

HOST=${LICK_HOST:-127.0.0.1}
PORT=${LICK_PORT:-8000}
FILES=2000
CHECK=0
while [ $# -gt 0 ]; do
  case $1 in
    --host) HOST=${2:?--host needs a value}; shift 2 ;;
    --port) PORT=${2:?--port needs a value}; shift 2 ;;
    --files) FILES=${2:?--files needs a value}; shift 2 ;;
    --check) CHECK=1; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
die() { printf 'run: ERROR: %s\n' "$*" >&2; exit 1; }

bash scripts/setup.sh || exit 1
export LICK_PUBLIC_URL=${LICK_PUBLIC_URL:-http://$HOST:$PORT}
VENV="$REPO/.venv/bin"
ROOT=$("$VENV/python" -c 'from archive.config import get_settings; print(get_settings().archive_root)')
RUN_DIR=${LICK_RUN_DIR:-$REPO/var}  # run.sh's logs and state (the tests give theirs)
LOGS="$RUN_DIR/log"
mkdir -p "$LOGS"

"$VENV/python" - "$HOST" "$PORT" <<'EOF' || die "port $2 on $1 is in use: stop what uses it, or pass --port"
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind((sys.argv[1], int(sys.argv[2])))
except OSError:
    sys.exit(1)
EOF

echo "Demo data"
mkdir -p "$ROOT" 2>/dev/null && [ -w "$ROOT" ] || die "archive root $ROOT is not writable: fix its permissions or set LICK_ARCHIVE_ROOT"
if [ -f "$ROOT/schedule.csv" ]; then
  echo "  skipped: $ROOT already holds a demo tree"
else
  "$VENV/lick-admin" generate-demo --root "$ROOT" --files "$FILES" || die "could not generate the demo tree"
fi
"$VENV/lick-admin" import-schedule "$ROOT/schedule.csv" || die "could not import the demo schedule"
"$VENV/lick-admin" ingest --quiet || die "ingest failed"
ACCOUNTS=$("$VENV/lick-admin" demo-accounts) || die "could not make the demo's accounts"

echo "Services"
# Ctrl-C sends SIGINT to the whole process group, but a script's background jobs start with
# SIGINT ignored: gunicorn and Celery install their own handler, the watcher too (it keeps its
# backlog, watcher/backlog.py). stop() then sends SIGTERM to each service (the watcher first, so
# that it may still post its backlog to the ingest API), and kills, with their children, those
# still running STOP_GRACE seconds later (a Celery task runs on; tasks are acknowledged late).
PIDS=()
NAMES=()
STOP_GRACE=10
running() { kill -0 "$1" 2>/dev/null; }
any_running() {
  local pid
  for pid in "${PIDS[@]}"; do running "$pid" && return 0; done
  return 1
}
kill_tree() {  # pid: SIGKILL to it and its descendants (gunicorn's workers, Celery's pool)
  local child
  for child in $(pgrep -P "$1" 2>/dev/null); do kill_tree "$child"; done
  kill -KILL "$1" 2>/dev/null
}
stop() {
  trap '' INT TERM  # a second Ctrl-C must not cut the stop short
  local i pid deadline=$((SECONDS + STOP_GRACE))
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[i]}
    kill -TERM "$pid" 2>/dev/null
    if [ "${NAMES[i]}" = watcher ]; then
      while running "$pid" && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    fi
  done
  for i in "${!PIDS[@]}"; do
    pid=${PIDS[i]}
    while running "$pid" && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    if running "$pid"; then
      echo "  ${NAMES[i]} still running after ${STOP_GRACE} s: killed" >&2
      kill_tree "$pid"
    fi
  done
  wait 2>/dev/null
  echo "stopped"
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
start() {  # name command...
  local name=$1; shift
  "$@" >"$LOGS/$name.log" 2>&1 &
  PIDS+=($!)
  NAMES+=("$name")
  echo "  started $name (pid $!, log ${LOGS#"$REPO"/}/$name.log)"
}
INGEST_URL=$("$VENV/python" -c 'from archive.config import get_settings; print(get_settings().ingest_url)')
INGEST_HOSTPORT=${INGEST_URL#*://}
start gunicorn "$VENV/gunicorn" vo_services.wsgi -c python:vo_services.gunicorn_config --bind "$HOST:$PORT" --workers "${LICK_WEB_WORKERS:-3}"
start ingest-api env LICK_URLCONF=ingest.urls "$VENV/gunicorn" vo_services.wsgi --bind "$INGEST_HOSTPORT" --workers 2
start celery-worker "$VENV/celery" -A lick.worker worker --loglevel INFO --concurrency 2 \
  --queues "$("$VENV/python" -c 'from archive.config import get_settings; print(get_settings().celery_queue)')"
start celery-beat "$VENV/celery" -A lick.worker beat --loglevel INFO \
  --schedule "$RUN_DIR/celerybeat-schedule"
start watcher "$VENV/python" -m watcher --mode inotify --root "$ROOT" --backlog "$RUN_DIR/watcher-backlog.json"

BASE="http://$HOST:$PORT"
for _ in $(seq 1 60); do
  "$VENV/python" -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" "$BASE/" 2>/dev/null && break
  sleep 0.5
done

cat <<EOF

The Lick archive is up on demo data ($ROOT):
  portal (browser)    $BASE/
  TAP                 $BASE/tap
  Simple Cone Search  $BASE/scs
  SIA 2.0             $BASE/sia  (query: $BASE/sia/query)
  DataLink            $BASE/datalink/links
  registry (OAI-PMH)  $BASE/oai
  your account        $BASE/auth/   (your jobs: $BASE/my/jobs, bundles: $BASE/my/bundles)
Demo log-ins (pyvo: AuthSession with BasicAA; TOPCAT: it asks when it sees the challenges):
$(echo "$ACCOUNTS" | sed 's/^/  /')
Logs are in ${LOGS#"$REPO"/}/. Stop with Ctrl-C.
EOF

if [ $CHECK = 1 ]; then
  "$VENV/python" "$REPO/scripts/check_services.py" "$BASE"
  status=$?
  stop
  exit $status
fi
# Until a signal comes (its trap stops everything and exits 130 or 143) or every service has
# ended by itself (then: 1, not the 0 of a clean stop).
while any_running; do
  sleep 1 &
  wait $!
done
stop
exit 1  # the services ended without being asked to
