"""Demo step for matching (called at the end of profiles/demo.py): score the demo people's new jobs
and write today's digests. Offline, JOB_SCORE and DIGEST answer with their rule-based fallbacks,
flagged. Re-running the same day scores nothing new and writes no digest twice. The emails app's
demo step (after this one) emails the digests.
"""

from __future__ import annotations

from django.conf import settings

from config.demo import DemoReport
from profiles.matching.services.digests import digests_generate
from profiles.matching.services.scoring import job_scores_run
from profiles.matching.store import min_score
from profiles.models import UserProfile


def demo_profile_ids() -> list[int]:
    """The demo people's profile ids (the profiles demo step creates them)."""
    from profiles.demo import DEMO_PEOPLE  # profiles/demo.py imports this module when it runs

    usernames = [person.username for person in DEMO_PEOPLE]
    return list(UserProfile.objects.filter(owner__username__in=usernames).values_list("id", flat=True))


def run(*, report: DemoReport) -> None:
    profile_ids = demo_profile_ids()
    scoring = job_scores_run(profile_ids=profile_ids)
    report.done.append(
        f"matching: {scoring.considered} new (person, job) pairs prefiltered for {scoring.people} people in "
        f"{scoring.prefilter_s:.2f}s; top {settings.MATCH_LLM_TOP_K} per person → {scoring.sent_to_llm} "
        f"JOB_SCORE call(s) ({scoring.llm_fallbacks} rule-based fallback(s)); "
        f"{scoring.stored} score(s) ≥ {min_score():.0f} stored"
    )
    digests = digests_generate(profile_ids=profile_ids, respect_hour=False)
    line = f"digests: {digests.generated} new daily digest(s) ({digests.fallbacks} rule-based)"
    if digests.no_new_matches:
        line += f"; {digests.no_new_matches} person(s) without new matches got none"
    already = len(profile_ids) - digests.due
    if already:
        line += f"; {already} already had today's digest"
    report.done.append(line)
    report.look += [
        "matches: GET http://127.0.0.1:8000/api/v1/profiles/matches/demo-jane?limit=10&min_score=60 (as staff)",
        "digests: GET http://127.0.0.1:8000/api/v1/digests/ (as staff)",
        "cost of a simulated day for 100 people: python manage.py simulate_day --people 100",
    ]
