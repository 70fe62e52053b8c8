"""Product suites poll batches without the production minute between polls."""

import pytest


@pytest.fixture(autouse=True)
def _poll_batches_at_once(settings):
    settings.BATCH_POLL_MIN_INTERVAL_S = 0
