"""Matching writes: scoring runs (scoring.py), daily digests (digests.py), feedback on matches (feedback.py)."""
