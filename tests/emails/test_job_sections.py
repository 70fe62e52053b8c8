"""Choosing the six sections from our data: order, sizes, no job twice, the fill rules (a short
section is filled from its next source, or left short and says why), and validation."""

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from catalog.models import JobListing
from emails.jobmail.llm import SECTION_KEYS
from emails.jobmail.sections import sections_select
from emails.jobmail.selectors import job_universe, people_data
from emails.jobmail.services import job_matches_for_person, job_matches_validate
from emails.models import Email, EmailClick
from tests.emails.conftest import make_jobs
from tests.factories import JobScoreFactory, ProfileFactory, UserFactory

pytestmark = pytest.mark.django_db


def select(profile):
    universe = job_universe(now=timezone.now())
    data = people_data(profile_ids=[profile.pk], universe=universe)
    return sections_select(person=data.people[0], data=data, universe=universe)


def by_key(selection):
    return {section.key: section for section in selection.sections}


def click(*, user, job, days_ago=0.0):
    email = Email.objects.create(kind=Email.Kind.DIGEST, recipient=user, to_address=user.email)
    row = EmailClick.objects.create(email=email, recipient=user, job_id=job.pk)
    EmailClick.objects.filter(pk=row.pk).update(clicked_at=timezone.now() - timedelta(days=days_ago))


def test_six_sections_in_order_within_their_sizes_and_no_job_twice(person, job_pool, settings):
    selection = select(person)

    assert [s.key for s in selection.sections] == list(SECTION_KEYS)
    for section in selection.sections:
        assert len(section.picks) <= settings.JOB_EMAIL_SECTION_SIZES[section.key]
    ids = [p.job_id for s in selection.sections for p in s.picks]
    assert len(ids) == len(set(ids))
    assert set(ids) <= {j.pk for j in job_pool["older"] + job_pool["fresh"]}
    assert set(selection.jobs) == set(ids)


def test_editorial_picks_are_staff_flagged_only_and_a_short_section_says_why(person, job_pool):
    editorial = by_key(select(person))["editorial_picks"]

    assert {p.job_id for p in editorial.picks} == {j.pk for j in job_pool["editorial"]}
    assert len(editorial.picks) == 3 < editorial.wanted
    assert "3 active editorial pick" in editorial.note


def test_top_recommendations_are_the_best_scores_then_filled_from_prefilter_fits(person, job_pool):
    JobScoreFactory.reset_sequence()
    top = by_key(select(person))["top_recommendations"]

    assert [p.job_id for p in top.picks] == [j.pk for j in job_pool["scored"][:5]]
    assert top.sources == {"job_score": 5}

    few = ProfileFactory()
    JobScoreFactory(profile=few, job=job_pool["older"][35], compatibility_score=95)
    filled = by_key(select(few))["top_recommendations"]
    assert filled.picks[0].job_id == job_pool["older"][35].pk
    assert filled.sources == {"job_score": 1, "prefilter": 4}
    assert "filled from prefilter" in filled.note


def test_new_arrivals_are_this_weeks_jobs_that_pass_the_prefilter_newest_first(person, job_pool):
    unfit = make_jobs(2, days_old=0.5, skills=["Cobol", "Fortran"], title="Mainframe Operator", location="Berlin")
    new = by_key(select(person))["new_arrivals"]

    ids = [p.job_id for p in new.picks]
    assert len(ids) == 10
    assert set(ids) <= {j.pk for j in job_pool["fresh"]}
    assert not set(ids) & {j.pk for j in unfit}
    created = dict(JobListing.objects.filter(pk__in=ids).values_list("pk", "created_at"))
    assert [created[i] for i in ids] == sorted(created.values(), reverse=True)


def test_popular_is_the_last_7_days_of_clicks_and_applications_then_all_time_counts(person, job_pool):
    others = [UserFactory() for _ in range(3)]
    hot, warm, stale = job_pool["older"][20], job_pool["older"][21], job_pool["older"][22]
    for user in others:
        click(user=user, job=hot)
    click(user=others[0], job=warm)
    for user in others:
        click(user=user, job=stale, days_ago=9)  # too old for "this week"
    JobListing.objects.filter(pk=job_pool["older"][23].pk).update(application_count=7)

    popular = by_key(select(person))["popular_jobs"]

    assert [p.job_id for p in popular.picks[:2]] == [hot.pk, warm.pk]
    assert popular.sources["popular_7d"] == 2
    assert job_pool["older"][23].pk in [p.job_id for p in popular.picks]  # all-time counts fill the rest
    assert stale.pk not in [p.job_id for p in popular.picks[:2]]


def test_popular_is_left_short_without_any_activity(person, job_pool):
    popular = by_key(select(person))["popular_jobs"]

    assert popular.picks == []
    assert "not enough applications or clicks" in popular.note


def test_you_might_like_uses_co_occurrence_then_similar_skills(person, job_pool):
    liked = job_pool["older"][25]
    # A weaker fit than the pool's, so no earlier section takes it first.
    also = make_jobs(1, days_old=20, title="Data Engineer", skills=["Python", "Spark", "Airflow"])[0]
    click(user=person.owner, job=liked)
    neighbour = UserFactory()
    click(user=neighbour, job=liked)
    click(user=neighbour, job=also, days_ago=10)  # older than a week: not "popular", still history

    section = by_key(select(person))["you_might_like"]

    assert section.picks[0].job_id == also.pk
    assert section.picks[0].source == "co_occurrence"
    assert "similar_skills" in section.sources  # thin history: the rest by skills


def test_you_might_like_falls_back_to_similar_skills_without_history(person, job_pool):
    section = by_key(select(person))["you_might_like"]

    assert len(section.picks) == section.wanted
    assert section.sources == {"similar_skills": section.wanted}
    assert "similar skills" in section.note


def test_jobs_applied_to_or_not_wanted_never_appear(person, job_pool):
    from profiles.models import JobScore

    applied, unwanted = job_pool["scored"][0], job_pool["scored"][1]
    JobScore.objects.filter(profile=person, job=applied).update(user_applied=True)
    JobScore.objects.filter(profile=person, job=unwanted).update(user_interested=False)
    JobListing.objects.filter(pk__in=[applied.pk, unwanted.pk]).update(is_editorial_pick=True)

    ids = {p.job_id for s in select(person).sections for p in s.picks}

    assert applied.pk not in ids
    assert unwanted.pk not in ids


def test_inactive_jobs_never_appear(person, job_pool):
    gone = job_pool["editorial"][0]
    JobListing.objects.filter(pk=gone.pk).update(active=False)

    ids = {p.job_id for s in select(person).sections for p in s.picks}

    assert gone.pk not in ids


# --- validation ------------------------------------------------------------------------------------


def test_validate_accepts_a_person_s_selection_and_reports_short_sections(person, job_pool):
    report = job_matches_for_person(profile=person)

    assert report["is_valid"], report["errors"]
    assert report["duplicates"] == []
    editorial = report["sections"][0]
    assert (editorial["key"], editorial["count"], editorial["sources"]) == ("editorial_picks", 3, {"editorial": 3})
    assert "editorial_picks: 3 of 5 jobs" in report["warnings"]


def test_validate_reports_duplicates_order_unknown_oversized_and_inactive(job_pool):
    a, b = job_pool["older"][0], job_pool["older"][1]
    JobListing.objects.filter(pk=b.pk).update(active=False)
    sections = {key: [] for key in SECTION_KEYS}
    sections["top_recommendations"] = [a.pk, b.pk]
    sections["popular_jobs"] = [a.pk]
    sections["editorial_picks"] = [j.pk for j in job_pool["older"][2:8]]  # 6 > 5
    reordered = {"top_recommendations": sections.pop("top_recommendations"), **sections, "bonus": []}

    report = job_matches_validate(sections=reordered)

    assert not report["is_valid"]
    text = " | ".join(report["errors"])
    assert "unknown section(s): bonus" in text
    assert "out of order" in text
    assert f"more than one place: {a.pk}" in text
    assert f"inactive job(s): {b.pk}" in text
    assert "editorial_picks: 6 jobs, at most 5" in text
    assert report["duplicates"] == [a.pk]


def test_validate_reports_missing_sections():
    report = job_matches_validate(sections={"editorial_picks": []})

    assert not report["is_valid"]
    assert any(e.startswith("missing section(s): top_recommendations") for e in report["errors"])


@given(
    counts=st.dictionaries(st.integers(1, 40), st.sampled_from([1.0, 2.0, 3.0, 5.0]), max_size=30),
    fit=st.dictionaries(st.integers(1, 40), st.sampled_from([-1.0, 0.0, 55.5, 70.0, 70.0, 91.2]), max_size=20),
)
def test_popular_jobs_rank_by_count_then_the_persons_fit_then_first_seen(counts, fit):
    from emails.jobmail.sections import _by_fit_within
    from emails.jobmail.selectors import rank_groups

    # The run ranks the counts once; each person only re-orders jobs of equal count by their fit.
    expected = [job for job, _ in sorted(counts.items(), key=lambda item: (-item[1], -fit.get(item[0], 0.0)))]

    assert list(_by_fit_within(rank_groups(counts.items()), fit)) == expected
