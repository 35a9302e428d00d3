#!/usr/bin/env bash
# Run the whole test suite against the real PostgreSQL + pgsphere, Redis and Celery.
#
#   scripts/test.sh [pytest arguments]
#
# Runs the (idempotent) set-up first, so that it also works on a fresh machine.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
bash scripts/setup.sh
echo "Tests"
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ $status = 5 ]; then
  echo "test.sh: pytest collected no tests" >&2
fi
exit $status
