"""Catalog write services (products side), split by concern:

- `content`: applying generated content and the product processing status;
- `imports`: validating and importing product files, and the bundled demo catalog;
- `generation`: building task inputs and generating content now, in bulk, or through a batch.

Import from the submodules; this package re-exports nothing so `catalog.products.llm` (which the
generation module needs) and `content` (which `catalog.products.llm` needs) never import each other in a cycle.
"""
