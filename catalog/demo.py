"""Demo step of the catalog (config.demo runs `<app>.demo`): the products step, then the jobs step."""

from __future__ import annotations

from catalog.jobs import demo as jobs_demo
from catalog.products import demo as products_demo
from config.demo import DemoReport


def run(*, report: DemoReport) -> None:
    products_demo.run(report=report)
    jobs_demo.run(report=report)  # keep last
