"""The llm app autodiscovers `<app>.llm`: importing the sub-packages' LLM task modules registers their tasks."""

from catalog.datasets import llm as datasets_llm  # noqa: F401 - registering is importing
from catalog.leads import llm as leads_llm  # noqa: F401 - registering is importing
from catalog.products import llm as products_llm  # noqa: F401 - registering is importing
