"""The API under load: people reading their jobs, matches, profile, digests and emails, and staff
reading batches, against gunicorn on PostgreSQL + Redis (README, "Performance").

    python manage.py loadtest_seed          # 2,000 jobs, 5 people, 5 batches; writes var/loadtest.json
    gunicorn config.wsgi -w 4 -b 127.0.0.1:8001
    locust -f loadtests/locustfile.py --headless -u 50 -r 50 -t 60s --host http://127.0.0.1:8001

Each simulated user pauses 100 ms between requests. People authenticate with their API token
(`Authorization: Token ...`), staff with an API key (`X-API-Key`); LOADTEST_SEED names another
seed file. The users are FastHttpUsers (geventhttpclient): with python-requests' HttpUser the
load generator itself spent ~8 ms of CPU a request and topped out near 110 req/s on one core,
whatever the server did (every endpoint, /healthz included, waited ~320 ms at the median).
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

from locust import FastHttpUser, constant, task

SEED = json.loads(Path(os.environ.get("LOADTEST_SEED", "var/loadtest.json")).read_text())


class Person(FastHttpUser):
    """One of the seeded people: jobs, their matches, profile, digests and emails."""

    weight = 4
    wait_time = constant(0.1)

    def on_start(self) -> None:
        self.person = random.choice(SEED["people"])
        self.headers = {"Authorization": f"Token {self.person['token']}"}

    @task(4)
    def jobs(self) -> None:
        page = random.randint(1, 40)
        self.client.get(f"/api/v1/jobs/?page={page}", name="/api/v1/jobs/?page=N", headers=self.headers)

    @task(3)
    def matches(self) -> None:
        self.client.get(
            f"/api/v1/profiles/matches/{self.person['user_id']}",
            name="/api/v1/profiles/matches/[user]",
            headers=self.headers,
        )

    @task(2)
    def profile(self) -> None:
        self.client.get(
            f"/api/v1/profiles/profile/{self.person['user_id']}",
            name="/api/v1/profiles/profile/[user]",
            headers=self.headers,
        )

    @task(2)
    def digests(self) -> None:
        self.client.get("/api/v1/digests/", name="/api/v1/digests/", headers=self.headers)

    @task(2)
    def digest(self) -> None:
        digest_id = random.choice(self.person["digest_ids"])
        self.client.get(f"/api/v1/digests/{digest_id}", name="/api/v1/digests/[id]", headers=self.headers)

    @task(2)
    def emails(self) -> None:
        self.client.get("/api/v1/emails/", name="/api/v1/emails/", headers=self.headers)

    @task(1)
    def email(self) -> None:
        email_id = random.choice(self.person["email_ids"])
        self.client.get(f"/api/v1/emails/{email_id}", name="/api/v1/emails/[id]", headers=self.headers)

    @task(1)
    def healthz(self) -> None:
        self.client.get("/healthz", headers=self.headers)


class Staff(FastHttpUser):
    """A staff client with an API key: batches lists and details, jobs."""

    weight = 1
    wait_time = constant(0.1)

    def on_start(self) -> None:
        self.headers = {"X-API-Key": SEED["api_key"]}

    @task(2)
    def batches(self) -> None:
        self.client.get("/api/v1/batch/list", name="/api/v1/batch/list", headers=self.headers)

    @task(2)
    def batch_status(self) -> None:
        batch_id = random.choice(SEED["batches"])
        self.client.get(f"/api/v1/batch/status/{batch_id}", name="/api/v1/batch/status/[id]", headers=self.headers)

    @task(1)
    def batch_results(self) -> None:
        batch_id = random.choice(SEED["batches"])
        self.client.get(f"/api/v1/batch/results/{batch_id}", name="/api/v1/batch/results/[id]", headers=self.headers)

    @task(1)
    def jobs(self) -> None:
        self.client.get("/api/v1/jobs/", name="/api/v1/jobs/?page=N", headers=self.headers)
