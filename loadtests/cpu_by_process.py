"""CPU seconds so far of gunicorn's workers and of the database's backends serving this database, as
JSON `{"workers": {pid: s}, "database": {pid: s}}` (loadtests/run.sh diffs two of these).

    python loadtests/cpu_by_process.py GUNICORN_PID

The backends are those of DATABASE_URL's database (pg_stat_activity), when it is PostgreSQL on this
machine; a backend that ended between two readings is missed (connections live DB_CONN_MAX_AGE).
"""

from __future__ import annotations

import json
import os
import sys

TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def _workers(arbiter: int) -> list[int]:
    with open(f"/proc/{arbiter}/task/{arbiter}/children") as children:
        return [int(pid) for pid in children.read().split()]


def _backends() -> list[int]:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return []
    import psycopg

    with psycopg.connect(url.partition("?")[0]) as connection:  # the query holds Django's OPTIONS
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [pid for (pid,) in rows]


def main() -> None:
    found = {"workers": _workers(int(sys.argv[1])), "database": _backends()}
    readings = {part: {str(pid): _cpu_s(pid) for pid in pids} for part, pids in found.items()}
    print(json.dumps({part: {pid: s for pid, s in cpu.items() if s is not None} for part, cpu in readings.items()}))


if __name__ == "__main__":
    main()
