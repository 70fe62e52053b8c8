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
sleep 3  # every worker booted
workers_cpu() {  # CPU seconds of the gunicorn workers so far
  python -c "
import os, sys
ticks = os.sysconf('SC_CLK_TCK')
workers = [int(p) for p in open('/proc/$GUNICORN/task/$GUNICORN/children').read().split()]
print(sum(sum(map(int, open(f'/proc/{w}/stat').read().rsplit(')', 1)[1].split()[11:13])) / ticks for w in workers))"
}
BOOTED_CPU=$(workers_cpu)
locust -f loadtests/locustfile.py --headless -u "$USERS" -r "$USERS" -t "${SECONDS_TO_RUN}s" \
  --host "http://127.0.0.1:${PORT}" --only-summary --csv var/loadtest
# The workers' CPU time (a machine shared with other work stretches wall times, much less this).
python - "$(workers_cpu)" "$BOOTED_CPU" <<'PY'
import csv, sys
cpu = float(sys.argv[1]) - float(sys.argv[2])
requests = int(next(r for r in csv.DictReader(open("var/loadtest_stats.csv")) if r["Name"] == "Aggregated")["Request Count"])
print(f"gunicorn workers: {cpu:.1f} CPU s for {requests} requests = {1000 * cpu / max(requests, 1):.2f} CPU ms a request")
PY
