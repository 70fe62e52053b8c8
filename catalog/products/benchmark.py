"""The Batch API benchmark (issue 4): N products' content through build → upload → provider → ingest.

Products are created in bulk, the product-content batch is created and built by the catalog
service (one line per product and locale), uploaded to an in-process simulator acting as the
`openai` provider, polled until the simulator has answered every line, then ingested. Timings
cover our code; the simulator's own answering time is reported apart (`provider_s`), and so is the
time spent inside the simulator while uploading (`build_upload_sim_s`: reading and validating every
line, which a real provider does on its side). Wall times come with this process's CPU seconds
(`*_cpu_s`), the database backend's (`*_db_cpu_s`, read from /proc) and the machine's load: on a
shared machine the wall time can be several times the CPU time.
"""

from __future__ import annotations

import os
import resource
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2
from django.db import connection, transaction
from django.test import override_settings

from batches.models import Batch, BatchItem, BatchPart
from batches.services import ItemSpec, batch_approve, batch_create, batch_ingest, batch_poll, batch_submit
from batches.services.common import FINISHED, batch_dir
from catalog.products.llm import PRODUCT_CONTENT
from catalog.products.models import Brand, Category, Product, ProductContent
from catalog.products.services.content import products_mark_queued
from catalog.products.services.generation import product_content_batch_create, product_content_input, product_custom_id
from llm.models import LLMCall
from llm.providers import use_transport

CATEGORIES = ("Electric Guitars", "Acoustic Guitars", "Bass Guitars", "Keyboards", "Drums", "Amplifiers")
BRANDS = 40
CREATE_CHUNK = 2000

Say = Callable[[str], None]


def db_cpu_s() -> tuple[int, float] | None:
    """(pid, CPU seconds used so far) of this connection's PostgreSQL backend (None where unreadable).

    On a shared machine a phase's wall time is its CPU time (ours plus the database's) stretched by
    everyone else's load; reporting both CPU times lets runs on a busy machine be compared.
    """
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return pid, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _since(start: tuple[int, float] | None) -> float | None:
    """Database CPU seconds since `start`, if the connection is still the same backend."""
    now = db_cpu_s()
    if start is None or now is None or now[0] != start[0]:
        return None
    return round(now[1] - start[1], 2)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def products_create(*, count: int, nonce: str) -> list[int]:
    """`count` products over 6 categories and a few dozen brands (bulk inserts); their ids."""
    categories = [
        Category.objects.get_or_create(slug=f"bench-{i}", defaults={"name": f"Bench {name}"})[0]
        for i, name in enumerate(CATEGORIES)
    ]
    brands = [
        Brand.objects.get_or_create(slug=f"bench-brand-{i}", defaults={"name": f"Bench Brand {i}"})[0]
        for i in range(BRANDS)
    ]
    ids: list[int] = []
    for start in range(0, count, CREATE_CHUNK):
        rows = [
            Product(
                name=f"Bench Model {i:06d}",
                slug=f"bench-{nonce}-{i}",
                brand=brands[i % BRANDS],
                category=categories[i % len(CATEGORIES)],
                description=f"A {CATEGORIES[i % len(CATEGORIES)].lower()[:-1]} for benchmarking, model {i}.",
                msrp_price=Decimal(199 + i % 1800),
                specs={"finish": "sunburst", "weight": f"{3 + i % 4}.{i % 10} kg", "origin": "Japan"},
            )
            for i in range(start, min(start + CREATE_CHUNK, count))
        ]
        ids.extend(p.pk for p in Product.objects.bulk_create(rows))
    return ids


class StreamingSimTransport(httpx2.BaseTransport):
    """`sim.transport()` without `httpx2.MockTransport`'s `request.read()`.

    MockTransport buffers every request body before handing it over, so a 270 MB upload would sit
    in this process's memory, as it never does over a socket; the simulator streams uploads itself.
    """

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.seconds = 0.0  # spent inside the simulator (reading uploads, validating, answering)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        started = time.perf_counter()
        try:
            return self.sim.handle(request)
        finally:
            self.seconds += time.perf_counter() - started


@contextmanager
def simulated_openai(seed: int) -> Iterator[StreamingSimTransport]:
    """Point the layer at an in-process simulator as the `openai` provider (its transport is yielded)."""
    from llm.simulator import Simulator

    sim = Simulator(seed=seed, batch_polls_per_stage=1, batch_shuffle=True)
    transport = StreamingSimTransport(sim)
    try:
        with (
            # Nothing is billed by the simulator: no daily budget holds the benchmark's batch back.
            override_settings(
                LLM_PROVIDER="openai", OPENAI_API_KEY="sk-benchmark", OPENAI_BASE_URL="", LLM_DAILY_BUDGET_USD=0
            ),
            use_transport(transport),
        ):
            yield transport
    finally:
        sim.close()


def _fast_delete(queryset: Any) -> None:
    """One DELETE ... WHERE, without Django's collector (which loads every row and its relations into
    memory first: hundreds of thousands here). Everything the run made is deleted together."""
    queryset._raw_delete(queryset.db)


def cleanup(*, nonce: str, batch_pks: list[int]) -> None:
    """Remove what the run created (products, their content, batches, ledger rows, files)."""
    batches = list(Batch.objects.filter(pk__in=batch_pks))
    for batch in batches:
        shutil.rmtree(batch_dir(batch), ignore_errors=True)
    products = Product.objects.filter(slug__startswith=f"bench-{nonce}-")
    with transaction.atomic():  # foreign keys are checked at commit: the order within does not matter
        calls = BatchItem.objects.filter(batch_id__in=batch_pks, llm_call__isnull=False).values("llm_call_id")
        _fast_delete(LLMCall.objects.filter(pk__in=calls))
        _fast_delete(BatchItem.objects.filter(batch_id__in=batch_pks))
        _fast_delete(BatchPart.objects.filter(batch_id__in=batch_pks))
        _fast_delete(Batch.objects.filter(pk__in=batch_pks))
        _fast_delete(ProductContent.objects.filter(product_id__in=products.values("pk")))
        _fast_delete(products)


def product_items(*, nonce: str, locales: list[str]) -> Iterator[ItemSpec]:
    """The run's (product, locale) lines, streamed: the catalog's own input builder and custom ids,
    over products read 2,000 at a time (the catalog service loads them all; see `via_service`)."""
    products = (
        Product.objects.filter(slug__startswith=f"bench-{nonce}-")
        .select_related("brand", "category")
        .order_by("pk")
        .iterator(chunk_size=2000)
    )
    for product in products:
        for locale in locales:
            yield ItemSpec(
                product_custom_id(product_id=product.pk, locale=locale),
                product_content_input(product=product, locale=locale),
                ("catalog.product", product.pk),
            )


def batch_benchmark(
    *,
    products: int,
    locales: list[str],
    seed: int = 4,
    keep: bool = False,
    via_service: bool = False,
    say: Say | None = None,
) -> dict[str, Any]:
    """One run; returns the figures (see the module docstring).

    `via_service` creates the batch with `product_content_batch_create` (what the API and
    `run_batch_processing` call) instead of streaming the inputs into `batch_create`.
    """
    # DEBUG off, as in production: with it on, Django keeps the text of every query in memory.
    with override_settings(DEBUG=False):
        return _run(products=products, locales=locales, seed=seed, keep=keep, via_service=via_service, say=say)


def _run(
    *, products: int, locales: list[str], seed: int, keep: bool, via_service: bool, say: Say | None
) -> dict[str, Any]:
    say = say or (lambda message: print(message, file=sys.stderr))
    nonce = uuid.uuid4().hex[:8]
    started = time.perf_counter()
    product_ids = products_create(count=products, nonce=nonce)
    create_products_s = time.perf_counter() - started
    say(f"created {len(product_ids)} products in {create_products_s:.1f}s (peak RSS {peak_rss_mb()} MB)")
    batch_pks: list[int] = []
    try:
        with simulated_openai(seed) as sim:
            started, cpu, db_cpu, in_sim = time.perf_counter(), time.process_time(), db_cpu_s(), sim.seconds
            if via_service:
                batch = product_content_batch_create(
                    product_ids=product_ids, locales=locales, name=f"benchmark {nonce}"
                )
            else:
                batch = batch_create(
                    task=PRODUCT_CONTENT, items=product_items(nonce=nonce, locales=locales), name=f"benchmark {nonce}"
                )
                products_mark_queued(product_ids=product_ids, batch_id=batch.batch_id)
            batch_pks.append(batch.pk)
            built_s = time.perf_counter() - started
            if batch.status == Batch.Status.AWAITING_APPROVAL:  # above BATCH_APPROVAL_USD, as a real run would be
                batch = batch_approve(batch=batch, user=None)
            batch = batch_submit(batch=batch)
            build_upload_s = time.perf_counter() - started
            build_upload_cpu_s = time.process_time() - cpu
            build_upload_db_cpu_s = _since(db_cpu)
            build_upload_sim_s = sim.seconds - in_sim
            say(
                f"built {batch.item_count} lines in {built_s:.1f}s, uploaded + submitted by {build_upload_s:.1f}s"
                f" (peak RSS {peak_rss_mb()} MB)"
            )

            started = time.perf_counter()
            polls = 0
            while batch.status not in FINISHED:
                batch = batch_poll(batch=batch, min_interval_s=0)
                polls += 1
            provider_s = time.perf_counter() - started
            say(
                f"simulator answered every line in {provider_s:.1f}s ({polls} polls): {batch.status}"
                f" ({peak_rss_mb()} MB)"
            )

            started, cpu, db_cpu, in_sim = time.perf_counter(), time.process_time(), db_cpu_s(), sim.seconds
            report = batch_ingest(batch=batch)
            ingest_s = time.perf_counter() - started
            ingest_cpu_s = time.process_time() - cpu
            ingest_db_cpu_s = _since(db_cpu)
            ingest_rss_mb = peak_rss_mb()
            say(f"ingested in {ingest_s:.1f}s: {report.applied} applied, {report.failed} failed ({peak_rss_mb()} MB)")
            batch.refresh_from_db()
            parts = list(batch.parts.order_by("number"))
            uploaded_mb = sum(p.byte_size for p in parts) / 1024 / 1024
            del sim
        if report.retry_batch is not None:
            batch_pks.append(report.retry_batch.pk)
        return {
            "products": products,
            "locales": locales,
            "via_service": via_service,
            "lines": batch.item_count,
            "parts": len(parts),
            "input_mb": round(uploaded_mb, 1),
            "create_products_s": round(create_products_s, 2),
            "build_s": round(built_s, 2),
            "build_upload_s": round(build_upload_s, 2),
            "build_upload_cpu_s": round(build_upload_cpu_s, 2),
            "build_upload_db_cpu_s": build_upload_db_cpu_s,
            "build_upload_sim_s": round(build_upload_sim_s, 2),
            "provider_s": round(provider_s, 2),
            "ingest_s": round(ingest_s, 2),
            "ingest_cpu_s": round(ingest_cpu_s, 2),
            "ingest_db_cpu_s": ingest_db_cpu_s,
            "ingest_rss_mb": ingest_rss_mb,
            "load_avg_1m": round(os.getloadavg()[0], 2),
            "peak_rss_mb": peak_rss_mb(),
            "applied": batch.items_applied,
            "failed": batch.items_failed,
            "resubmitted": batch.items_resubmitted,
            "status": batch.status,
            "tokens_in": batch.tokens_in,
            "tokens_out": batch.tokens_out,
            "cost_usd": str(batch.cost_usd),
            "kept": keep,
        }
    finally:
        if not keep:
            cleanup(nonce=nonce, batch_pks=batch_pks)
