"""The rule-based prefilter on plain data: each sub-score, the window, the floor and top K."""

import math

import pytest

from profiles.matching.prefilter import (
    JobIndex,
    JobRow,
    PersonRow,
    location_tokens,
    required_years,
    score_person,
)

NOW = 1_700_000_000.0


def job(job_id, *, title="Backend Engineer", location="Tokyo, Japan", remote=False, skills=("Python", "Django"),
        salary=(4_500_000, 6_000_000), currency="JPY", created=NOW - 60, text=""):  # fmt: skip
    return JobRow(
        id=job_id,
        title=title,
        location=location,
        remote=remote,
        salary_min=salary[0] if salary else None,
        salary_max=salary[1] if salary else None,
        salary_currency=currency,
        skills=list(skills),
        created_ts=created,
        text_excerpt=text,
    )


def person(**overrides):
    values = {
        "profile_id": 1,
        "skills": ["Python", "django", "JS"],  # aliases and case are normalized
        "years": 0.0,
        "locations": ["Tokyo", "Remote"],
        "desired_roles": [],
        "salary_min": 4_000_000.0,
        "salary_max": 6_000_000.0,
        "window_start_ts": NOW - 3600,
    }
    values.update(overrides)
    return PersonRow(**values)


def only(index, who, **kwargs):
    result = score_person(index, who, top_k=kwargs.pop("top_k", 50), floor=kwargs.pop("floor", 0), window_end_ts=NOW)
    return {c.job_id: c for c in result.candidates}, result


def test_skills_sub_score_follows_the_overlap_with_the_jobs_skills():
    index = JobIndex(
        [
            job(1, skills=("Python", "Django")),
            job(2, skills=("Go", "Rust")),
            job(3, skills=()),
            job(4, skills=("Python", "Go", "Rust", "Kubernetes")),
            job(5, skills=("JavaScript",)),
        ]
    )

    scored, _ = only(index, person())

    assert scored[1].skills == 100.0
    assert scored[2].skills == 0.0
    assert scored[3].skills == 40.0  # the posting lists nothing: neutral, not a match
    assert 0 < scored[4].skills < scored[1].skills
    assert scored[5].skills == 100.0  # "JS" on the profile is JavaScript
    assert scored[4].matched_skills == ("Python",)
    assert scored[4].missing_skills == ("Go", "Rust", "Kubernetes")


def test_location_sub_score_knows_remote_cities_in_two_scripts_and_countries():
    index = JobIndex(
        [
            job(1, location="東京都渋谷区"),
            job(2, location="Osaka, Japan"),
            job(3, location="Berlin, Germany"),
            job(4, location="Anywhere", remote=True),
            job(5, location=""),
            job(6, location="Remote (US)", remote=True),
            job(7, location="Tokyo (hybrid)", remote=True),
        ]
    )

    scored, _ = only(index, person())
    onsite_person, _ = only(index, person(locations=["Tokyo, Japan"]))

    assert scored[1].location == 100.0
    assert scored[2].location == 65.0  # another city in the same country
    assert scored[3].location == 15.0
    assert scored[4].location == 100.0  # remote job, and the person wants remote
    assert onsite_person[4].location == 90.0
    assert scored[5].location == 50.0
    assert scored[6].location == 60.0  # remote, but tied to another country
    assert onsite_person[6].location == 40.0
    assert scored[7].location == 100.0


def test_experience_sub_score_compares_years_with_the_level_the_posting_asks_for():
    index = JobIndex(
        [
            job(1, title="Senior Backend Engineer"),
            job(2, title="Backend Engineer (New Grad)"),
            job(3, title="Backend Engineer", text="You have 3+ years of Python."),
            job(4, title="Backend Engineer"),
            job(5, title="バックエンドエンジニア", text="実務経験2年以上"),
        ]
    )

    scored, _ = only(index, person(years=1.0))

    assert scored[1].experience == 0.0  # asks 5 years, has 1
    assert scored[2].experience == 100.0
    assert scored[3].experience == 40.0  # two years short
    assert scored[4].experience == 70.0  # the posting doesn't say
    assert scored[5].experience == 70.0
    assert scored[1].required_years == 5.0
    assert scored[4].required_years is None


def test_salary_sub_score_compares_same_currency_ranges_only():
    index = JobIndex(
        [
            job(1, salary=(4_500_000, 6_000_000)),
            job(2, salary=(3_000_000, 3_600_000)),
            job(3, salary=(90_000, 120_000), currency="USD"),
            job(4, salary=None),
        ]
    )

    scored, _ = only(index, person())

    assert scored[1].salary == 100.0
    assert scored[2].salary == 75.0  # 10% under the minimum
    assert scored[3].salary == 60.0  # other currency: not comparable
    assert scored[4].salary == 60.0


def test_top_k_keeps_the_best_above_the_floor_in_order():
    jobs = [job(i, skills=("Python", "Django") if i % 2 else ("Go",), title=f"Role {i}") for i in range(1, 31)]
    index = JobIndex(jobs)

    result = score_person(index, person(), top_k=5, floor=60, window_end_ts=NOW)

    assert len(result.candidates) == 5
    assert all(c.job_id % 2 for c in result.candidates)
    overalls = [c.overall for c in result.candidates]
    assert overalls == sorted(overalls, reverse=True)
    assert result.considered == 30
    assert result.above_floor == 15


def test_a_desired_role_in_the_title_adds_a_bonus():
    index = JobIndex([job(1, title="Data Scientist"), job(2, title="Junior Data Scientist")])

    scored, _ = only(index, person(desired_roles=["data scientist"]))
    plain, _ = only(index, person())

    assert scored[1].role_match
    assert scored[1].overall == pytest.approx(min(100.0, plain[1].overall + 10), abs=0.1)


def test_only_jobs_in_the_persons_window_count_and_excluded_ids_are_skipped():
    index = JobIndex([job(1, created=NOW - 7200), job(2, created=NOW - 60), job(3, created=NOW - 30)])

    result = score_person(index, person(exclude_job_ids=frozenset({3})), top_k=10, floor=0, window_end_ts=NOW)

    assert [c.job_id for c in result.candidates] == [2]
    assert result.considered == 1


def test_helpers_parse_years_and_locations():
    assert required_years("Software Engineer Intern") == 0.0
    assert required_years("Lead Engineer") == 7.0
    assert required_years("経験5年以上") == 5.0
    assert math.isnan(required_years("Engineer"))
    assert location_tokens("東京都港区")[-2:] == ["tokyo", "japan"]
    assert location_tokens("Remote (US/Canada)") == ["us", "canada"]
