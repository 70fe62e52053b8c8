"""Demo step of the catalog (config.demo runs `<app>.demo`): products, data dictionaries, jobs, then leads."""

from __future__ import annotations

from catalog.datasets import demo as datasets_demo
from catalog.jobs import demo as jobs_demo
from catalog.leads import demo as leads_demo
from catalog.products import demo as products_demo
from config.demo import DemoReport


def run(*, report: DemoReport) -> None:
    products_demo.run(report=report)
    datasets_demo.run(report=report)
    jobs_demo.run(report=report)
    leads_demo.run(report=report)  # after the jobs step: the postings become leads
