#!/usr/bin/env bash
# The API load test end to end: seed, gunicorn (4 workers, DEBUG off), a headless locust run, stop.
#   DATABASE_URL=postgres://... REDIS_URL=redis://... bash loadtests/run.sh [seconds] [users] [port]
# Prints locust's summary; the per-endpoint CSV lands in var/loadtest_stats.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-60}
USERS=${2:-50}
PORT=${3:-8001}
export DEBUG=false
export SECRET_KEY=${SECRET_KEY:-$(python -c 'import secrets; print(secrets.token_urlsafe(50))')}
python manage.py loadtest_seed
gunicorn config.wsgi -w 4 -b "127.0.0.1:${PORT}" --access-logfile /dev/null --error-logfile var/loadtest_gunicorn.log &
GUNICORN=$!
trap 'kill "$GUNICORN" 2>/dev/null || true; wait "$GUNICORN" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:${PORT}/healthz" >/dev/null && break; sleep 0.2; done
locust -f loadtests/locustfile.py --headless -u "$USERS" -r "$USERS" -t "${SECONDS_TO_RUN}s" \
  --host "http://127.0.0.1:${PORT}" --only-summary --csv var/loadtest
