"""Jobs: job feeds and listings, the guarded feed fetcher, feed parsing and the skills vocabulary."""
