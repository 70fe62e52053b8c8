"""Matching: job scores, daily digests and their API (a room inside the profiles app).

Scoring runs in two stages: a rule-based prefilter over every new job (prefilter.py), then the
JOB_SCORE LLM task for each person's top K (services/scoring.py); score writes in store.py, reads
in selectors.py. Digests are generated in services/digests.py from the DIGEST task; profiles
never sends them (the emails app does, and reports opens and clicks back through our services).

Kept import-free: the LLM task modules import `store`, and the services import the tasks.
"""
