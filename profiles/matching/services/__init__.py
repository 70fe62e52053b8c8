"""Matching writes: scoring runs (scoring.py) and daily digests (digests.py)."""
