"""Data dictionary write services, split so the LLM task and its apply never import each other:

- `entries`: a run's text on an entry (never over a person's edit) and a person's edit;
- `runs`: creating or refreshing a dictionary from a source's fields and describing it.

Import from the submodules; this package re-exports nothing.
"""
