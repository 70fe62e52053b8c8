"""CPU per request of the load test's mix, in process: the server's own cost, measured without a load
generator or other work on the machine stretching it (README, "Performance").

    python manage.py loadtest_seed                       # var/loadtest.json
    python loadtests/cpu.py [--rounds 300] [--seed var/loadtest.json] [--json] [--profile jobs]

Each request of loadtests/locustfile.py's mix goes through Django's WSGI handler as gunicorn would
call it (DEBUG off, the same settings and middleware), the endpoints taken in turn, round after
round; the figure per endpoint is the median of its CPU time (time.process_time) over the rounds,
after a few warm-up rounds. The database's and Redis's own CPU are not in it (other processes).
`--profile NAME` prints cProfile's top functions for that endpoint instead.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["DEBUG"] = "false"
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))


def _mix(seed: dict[str, Any]) -> dict[str, tuple[dict[str, str], str]]:
    """One request per endpoint of the locust mix: (auth headers, path with query)."""
    person, batch_id = seed["people"][0], seed["batches"][0]
    token = {"HTTP_AUTHORIZATION": f"Token {person['token']}"}
    key = {"HTTP_X_API_KEY": seed["api_key"]}
    user_id = person["user_id"]
    return {
        "jobs": (token, "/api/v1/jobs/?page=7"),
        "matches": (token, f"/api/v1/profiles/matches/{user_id}"),
        "profile": (token, f"/api/v1/profiles/profile/{user_id}"),
        "digests": (token, "/api/v1/digests/"),
        "digest": (token, f"/api/v1/digests/{person['digest_ids'][0]}"),
        "emails": (token, "/api/v1/emails/"),
        "email": (token, f"/api/v1/emails/{person['email_ids'][0]}"),
        "healthz": (token, "/healthz"),
        "batches": (key, "/api/v1/batch/list"),
        "batch_status": (key, f"/api/v1/batch/status/{batch_id}"),
        "batch_results": (key, f"/api/v1/batch/results/{batch_id}"),
    }


def _environ(headers: dict[str, str], url: str) -> dict[str, Any]:
    path, _, query = url.partition("?")
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8001",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8001",
        "HTTP_ACCEPT": "*/*",
        "HTTP_USER_AGENT": "loadtests/cpu.py",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **headers,
    }


def _call(application: Any, headers: dict[str, str], url: str) -> tuple[str, bytes]:
    status: list[str] = []
    response = application(_environ(headers, url), lambda code, _headers, *_: status.append(code))
    try:
        body = b"".join(response)
    finally:
        response.close()
    return status[0], body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", default=os.environ.get("LOADTEST_SEED", "var/loadtest.json"))
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="One JSON object: µs per endpoint.")
    parser.add_argument("--profile", metavar="NAME", help="cProfile one endpoint (its name in the mix).")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler

    application = WSGIHandler()
    mix = _mix(json.loads(Path(args.seed).read_text()))
    for name, (headers, url) in mix.items():
        status, body = _call(application, headers, url)
        if not status.startswith("200"):
            raise SystemExit(f"{name}: {url} answered {status}: {body[:300]!r}")
    for _ in range(args.warmup):
        for headers, url in mix.values():
            _call(application, headers, url)

    if args.profile:
        headers, url = mix[args.profile]
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for _ in range(args.rounds):
            _call(application, headers, url)
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(30)
        return

    samples: dict[str, list[float]] = {name: [] for name in mix}
    started = time.process_time()
    for _ in range(args.rounds):
        for name, (headers, url) in mix.items():
            before = time.process_time()
            _call(application, headers, url)
            samples[name].append(time.process_time() - before)
    total = time.process_time() - started
    medians = {name: round(statistics.median(values) * 1e6) for name, values in samples.items()}
    # The locust mix's weights (Person 4 : Staff 1, each task's weight within its user class).
    weights = {
        "jobs": 4 * 4 / 17 + 1 / 6,
        "matches": 4 * 3 / 17,
        "profile": 4 * 2 / 17,
        "digests": 4 * 2 / 17,
        "digest": 4 * 2 / 17,
        "emails": 4 * 2 / 17,
        "email": 4 * 1 / 17,
        "healthz": 4 * 1 / 17,
        "batches": 2 / 6,
        "batch_status": 2 / 6,
        "batch_results": 1 / 6,
    }
    mix_us = round(sum(medians[name] * weight for name, weight in weights.items()) / sum(weights.values()))
    load = os.getloadavg()[0]
    if args.json:
        print(json.dumps({"cpu_us_median": medians, "mix_cpu_us": mix_us, "rounds": args.rounds, "load_1m": load}))
        return
    for name, micros in medians.items():
        print(f"{name:14} {micros:7d} µs  {mix[name][1]}")
    print(f"{'mix (weighted)':14} {mix_us:7d} µs  ({args.rounds} rounds, {total:.1f} CPU s, load average {load:.1f})")


if __name__ == "__main__":
    main()
