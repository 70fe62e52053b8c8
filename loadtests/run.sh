#!/usr/bin/env bash
# The API load test end to end: seed, gunicorn (4 workers, DEBUG off), a headless locust run, stop.
#   DATABASE_URL=postgres://... REDIS_URL=redis://... bash loadtests/run.sh [seconds] [users] [port]
# Prints locust's summary, then the CPU each part used per request (gunicorn's workers, locust, the
# database's backends for this database); the per-endpoint CSV lands in var/loadtest_stats.csv.
# GUNICORN_ARGS replaces the worker settings (e.g. GUNICORN_ARGS="-w 4 -k gthread --threads 2").
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-60}
USERS=${2:-50}
PORT=${3:-8001}
export DEBUG=false
export SECRET_KEY=${SECRET_KEY:-$(python -c 'import secrets; print(secrets.token_urlsafe(50))')}
python manage.py loadtest_seed
# Sync workers: each request goes to whichever worker is free. gthread workers keep connections open
# (less CPU a request: no connect and close) but each connection stays with the worker that took it,
# and their tail was longer here (README). No access log: it formatted a line a request for /dev/null.
# shellcheck disable=SC2086
gunicorn config.wsgi ${GUNICORN_ARGS:--w 4} -b "127.0.0.1:${PORT}" \
  --error-logfile var/loadtest_gunicorn.log &
GUNICORN=$!
trap 'kill "$GUNICORN" 2>/dev/null || true; wait "$GUNICORN" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:${PORT}/healthz" >/dev/null && break; sleep 0.2; done
sleep 3  # every worker booted
cpu_by_process() {  # JSON {pid: CPU seconds} of gunicorn's workers and this database's backends
  python loadtests/cpu_by_process.py "$GUNICORN"
}
BEFORE=$(cpu_by_process)
# The load generator's own CPU (its children's, reaped) is printed with the rest.
python - "$USERS" "$SECONDS_TO_RUN" "$PORT" <<'PY' >var/loadtest_locust_cpu.txt
import resource, subprocess, sys
users, seconds, port = sys.argv[1:]
code = subprocess.run(
    ["locust", "-f", "loadtests/locustfile.py", "--headless", "-u", users, "-r", users, "-t", f"{seconds}s",
     "--host", f"http://127.0.0.1:{port}", "--only-summary", "--csv", "var/loadtest"],
    check=False, stdout=sys.stderr,
).returncode
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(usage.ru_utime + usage.ru_stime, code)
PY
read -r LOCUST_CPU LOCUST_EXIT <var/loadtest_locust_cpu.txt
python - "$BEFORE" "$(cpu_by_process)" "$LOCUST_CPU" <<'PY'
import csv, json, sys
before, after, locust = json.loads(sys.argv[1]), json.loads(sys.argv[2]), float(sys.argv[3])
requests = int(next(r for r in csv.DictReader(open("var/loadtest_stats.csv")) if r["Name"] == "Aggregated")["Request Count"])
per = lambda seconds: 1000 * seconds / max(requests, 1)
for part in ("workers", "database"):
    spent = sum(cpu - before[part].get(pid, 0.0) for pid, cpu in after[part].items())
    print(f"{'gunicorn workers' if part == 'workers' else 'database backends'}: {spent:.1f} CPU s = {per(spent):.2f} CPU ms a request")
print(f"locust: {locust:.1f} CPU s = {per(locust):.2f} CPU ms a request ({requests} requests)")
PY
exit "$LOCUST_EXIT"  # locust: 1 when a request failed
