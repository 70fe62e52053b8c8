"""The chaos suite's plumbing: real Celery workers, beats, commands and a web server, as subprocesses.

Every process runs the project as deployed: PostgreSQL (pytest-django's test database, which the
subprocesses are pointed at by name, so each test uses `transactional_db` and commits what it
makes), a RabbitMQ virtual host of the session's own as the broker, a redis-server of the
session's own on a spare port as the cache (Redis outages stop and start it; the shared Redis on
6379 is never touched), and the LLM simulator served on loopback from this process, so the test
can read its usage counters and change its faults while the workers call it.

Each scenario is bounded: every wait has a deadline, and every process started is killed (its
whole process group) in `finally`, whatever the test did.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from django.db import connection
from kombu import Connection
from kombu.exceptions import OperationalError as KombuOperationalError

from llm.simulator import Simulator, SimulatorConfig, serve
from tests.llm.test_redis_outage import RedisServer, _free_port

ROOT = Path(__file__).resolve().parents[2]
RABBIT_URL = os.environ.get("CHAOS_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672")
SIM_KEY = "sk-chaos-0123456789"
FAULTS_OFF = {f.name: f.default for f in fields(SimulatorConfig) if f.name not in ("files_dir", "models")}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the chaos scenarios after the rest of the suite: their transactional flushes (the
    subprocesses need committed data) would otherwise run between tests that expect warm caches."""
    chaos = [item for item in items if "tests/chaos/" in str(item.fspath).replace(os.sep, "/")]
    if chaos:
        chosen = set(chaos)
        items[:] = [item for item in items if item not in chosen] + chaos


def _unavailable(reason: str) -> None:
    """CI must run the chaos suite (DESIGN.md §3: a missing service fails there); elsewhere it is skipped."""
    if os.environ.get("CI"):
        pytest.fail(f"chaos suite: {reason}")
    pytest.skip(f"chaos suite: {reason}")


def wait_until(what: str, check: Callable[[], Any], *, timeout: float, every: float = 0.2) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


@dataclass
class Proc:
    """A subprocess in its own process group, its output in a log file."""

    name: str
    popen: subprocess.Popen
    log: Path
    stopped: bool = False  # by the test, on purpose

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.popen.poll() is None

    def wait_for(self, pattern: str, *, timeout: float) -> None:
        regex = re.compile(pattern)

        def seen() -> bool:
            if regex.search(self.output()):
                return True
            if not self.alive():
                pytest.fail(f"{self.name} exited ({self.popen.returncode}) before {pattern!r}:\n{self.tail()}")
            return False

        wait_until(f"{self.name} to log {pattern!r}", seen, timeout=timeout)

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL the whole group (a worker's pool children too), as a lost host or the OOM killer would."""
        self.stopped = True
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM (a warm shutdown), then SIGKILL if it does not stop in time."""
        self.stopped = True
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Services:
    """What the session started once: the simulator, a redis-server and a broker virtual host."""

    sim: Simulator
    sim_url: str
    redis: RedisServer
    broker_url: str
    work_dir: Path


@dataclass
class Chaos:
    """One scenario's handle: the environment of its subprocesses, and the processes it started."""

    services: Services
    database_url: str
    env: dict[str, str]
    logs: Path
    procs: list[Proc] = field(default_factory=list)

    @property
    def sim(self) -> Simulator:
        return self.services.sim

    def wait(self, what: str, check: Callable[[], Any], *, timeout: float, every: float = 0.2) -> Any:
        """`wait_until`, failing at once when a process this scenario still needs has died."""

        def checked() -> Any:
            for proc in self.procs:
                if not proc.stopped and not proc.alive():
                    pytest.fail(f"{proc.name} died ({proc.popen.returncode}) while waiting for {what}:\n{proc.tail()}")
            return check()

        return wait_until(what, checked, timeout=timeout, every=every)

    def start(self, name: str, argv: list[str], **env: str) -> Proc:
        log = self.logs / f"{name}-{len(self.procs)}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(  # noqa: S603 - our own interpreter and the project's entry points
                argv,
                cwd=ROOT,
                env={**self.env, **env},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        proc = Proc(name=name, popen=popen, log=log)
        self.procs.append(proc)
        return proc

    def worker(self, name: str = "worker", *, env: dict[str, str] | None = None, concurrency: int = 2) -> Proc:
        """A prefork Celery worker on the session's broker (with `env` on top), ready to take tasks."""
        argv = [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "info", "-P", "prefork"]
        argv += ["-c", str(concurrency), "-n", f"{name}-{uuid.uuid4().hex[:6]}@chaos"]
        argv += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        proc = self.start(name, argv, **(env or {}))
        proc.wait_for(r"\bready\.", timeout=60)
        return proc

    def beat(self, name: str = "beat", **env: str) -> Proc:
        argv = [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "info"]
        argv += ["--schedule", str(self.logs / f"{name}-schedule")]  # unused by the database scheduler
        proc = self.start(name, argv, **env)
        proc.wait_for(r"beat: Starting", timeout=60)
        return proc

    def web(self) -> str:
        """A web process (`runserver`) on a spare loopback port; returns its /healthz URL."""
        port = _free_port()
        proc = self.start("web", [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"])
        proc.wait_for(r"Quit the server", timeout=60)
        return f"http://127.0.0.1:{port}/healthz"

    def manage(self, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
        """Run a management command to its end (bounded); its output is kept in the logs folder."""
        result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **env},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        (self.logs / f"manage-{args[0]}-{time.monotonic_ns()}.log").write_text(result.stdout + result.stderr)
        return result

    def send(self, task: str, *args: Any, **kwargs: Any) -> None:
        """Queue a task on the session's broker, as the web process or the beat would."""
        sender = Celery("chaos-sender", broker=self.services.broker_url)
        with sender.connection_for_write() as conn:
            sender.send_task(task, args=args, kwargs=kwargs, connection=conn)

    def kill_all(self) -> None:
        for proc in self.procs:
            proc.kill()

    def print_tails(self) -> None:
        """The end of every process's log: pytest shows it under a failing test."""
        for proc in self.procs:
            print(f"--- {proc.name} ({proc.log.name}) ---\n{proc.tail()}")  # noqa: T201


def healthz(url: str) -> tuple[int, dict[str, Any]]:
    """GET /healthz: its status and JSON body (also for a 503)."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - our own server on loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# --- session services -------------------------------------------------------------------------------


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)  # noqa: S603, S607


@contextlib.contextmanager
def _broker_vhost() -> Iterator[str]:
    """A RabbitMQ virtual host of this session's own: no other run's workers see its queues."""
    if shutil.which("rabbitmqctl") is None:
        _unavailable("needs RabbitMQ (rabbitmqctl on PATH) as the Celery broker")
    vhost = f"chaos-{uuid.uuid4().hex[:10]}"
    try:
        _rabbitmqctl("add_vhost", vhost)
        _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        _unavailable(f"RabbitMQ did not take a virtual host ({exc}); is rabbitmq-server running?")
    url = f"{RABBIT_URL}/{vhost}"
    try:
        with Connection(url, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=1)
        yield url
    except (KombuOperationalError, OSError) as exc:
        _unavailable(f"RabbitMQ is not reachable at {RABBIT_URL} ({exc})")
    finally:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError):
            _rabbitmqctl("delete_vhost", vhost)


@pytest.fixture(scope="session")
def chaos_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        _unavailable("needs PostgreSQL: set DATABASE_URL=postgres://... (the workers share the test database)")
    if shutil.which("redis-server") is None:
        _unavailable("needs the redis-server binary (a Redis of its own, which it stops and starts)")
    work_dir = tmp_path_factory.mktemp("chaos")
    server = RedisServer()
    server.start()
    try:
        with (
            _broker_vhost() as broker_url,
            Simulator(SimulatorConfig(seed=15, require_api_key=SIM_KEY)) as sim,
            serve(sim, port=_free_port()) as sim_url,
        ):
            yield Services(sim=sim, sim_url=sim_url, redis=server, broker_url=broker_url, work_dir=work_dir)
    finally:
        if server.process is not None:
            server.stop()


def _database_url() -> str:
    """pytest-django's test database, as a URL the subprocesses read (DATABASE_URL)."""
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def _terminate_backends() -> None:
    """End the test database sessions that killed processes left (one may sit in a trigger's sleep),
    so the flush after the test does not wait on their locks."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def chaos(chaos_services: Services, transactional_db: None, tmp_path: Path) -> Iterator[Chaos]:
    """A clean scenario: empty cache, a simulator without faults and with fresh counters."""
    services = chaos_services
    if services.redis.process is None:
        services.redis.start()
    redis.Redis(port=services.redis.port).flushall()
    sim = services.sim
    for name, value in FAULTS_OFF.items():
        setattr(sim.config, name, value)
    sim.config.require_api_key = SIM_KEY
    sim.reset()
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OPENAI_", "AZURE_OPENAI_", "CELERY_", "LLM_", "BATCH_", "PYTEST_", "DJANGO_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONUNBUFFERED="1",
        DATABASE_URL=_database_url(),
        REDIS_URL=services.redis.url,
        CELERY_BROKER_URL=services.broker_url,
        CONTENTOPS_VAR_DIR=str(var_dir),
        LOG_FORMAT="console",
        HEALTHZ_CACHE_S="0",
        LLM_PROVIDER="openai",
        OPENAI_API_KEY=SIM_KEY,
        OPENAI_BASE_URL=services.sim_url,
        OPENAI_MODEL="gpt-4o-mini",
        OPENAI_REQUEST_TIMEOUT="2",
        OPENAI_CONNECTION_TIMEOUT="2",
        OPENAI_RETRY_MIN_WAIT="0.05",
        OPENAI_RETRY_MAX_WAIT="0.2",
        OPENAI_CIRCUIT_RESET_TIMEOUT="2",
        LLM_REDIS_RETRY_SECONDS="1",
        LLM_DAILY_BUDGET_USD="0",
        BATCH_APPROVAL_USD="1000",
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    scenario = Chaos(services=services, database_url=env["DATABASE_URL"], env=env, logs=logs)
    try:
        yield scenario
    finally:
        scenario.kill_all()
        scenario.print_tails()
        if services.redis.process is None:
            services.redis.start()
        _terminate_backends()


# --- what the scenarios compare ---------------------------------------------------------------------


def ledger_vs_provider(sim: Simulator) -> dict[str, tuple[int, int]]:
    """{kind: (ledger total, provider's own count)} for input and output tokens."""
    from django.db.models import Sum

    from llm.models import LLMCall

    totals = LLMCall.objects.aggregate(tokens_in=Sum("tokens_in"), tokens_out=Sum("tokens_out"))
    usage = sim.usage
    return {
        "input": (totals["tokens_in"] or 0, usage["prompt_tokens"]),
        "output": (totals["tokens_out"] or 0, usage["completion_tokens"]),
    }


def assert_ledger_matches_provider(sim: Simulator, *, tolerance: float = 0.01) -> dict[str, tuple[int, int]]:
    figures = ledger_vs_provider(sim)
    for kind, (ledger, provider) in figures.items():
        assert provider > 0, f"the provider billed no {kind} tokens: the scenario did not run"
        assert abs(ledger - provider) <= tolerance * provider, (
            f"ledger {kind} tokens {ledger} vs the provider's {provider}: "
            f"{(ledger - provider) / provider:+.2%} (allowed ±{tolerance:.0%})"
        )
    return figures
