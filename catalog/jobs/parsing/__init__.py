"""Feed bytes → job listings (see feed.py), and the text, salary, date and encoding readers behind it."""

from catalog.jobs.parsing.dates import parse_date_text
from catalog.jobs.parsing.encoding import feed_bytes_decoded
from catalog.jobs.parsing.feed import (
    FeedParseError,
    ItemProblem,
    ParsedFeed,
    ParsedListing,
    entry_to_listing,
    parse_feed,
    rebase_posted_at,
)
from catalog.jobs.parsing.salary import SALARY_CEILING, Salary, find_salary, parse_salary
from catalog.jobs.parsing.text import detect_language, detect_remote, field_text, html_to_text, plain_text

__all__ = [
    "SALARY_CEILING",
    "FeedParseError",
    "ItemProblem",
    "ParsedFeed",
    "ParsedListing",
    "Salary",
    "detect_language",
    "detect_remote",
    "entry_to_listing",
    "feed_bytes_decoded",
    "field_text",
    "find_salary",
    "html_to_text",
    "parse_date_text",
    "parse_feed",
    "parse_salary",
    "plain_text",
    "rebase_posted_at",
]
