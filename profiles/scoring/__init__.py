"""Job scoring in two stages: a rule-based prefilter over every new job (prefilter.py), then the
JOB_SCORE LLM task for each person's top K (services.py); writes in store.py, reads in selectors.py.

Kept import-free: the LLM task module imports `store`, and the services import the task.
"""
