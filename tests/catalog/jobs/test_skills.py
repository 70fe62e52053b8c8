"""The skills dictionary: aliases, word boundaries, Japanese, categories."""

from __future__ import annotations

import pytest

from catalog.jobs.skills import (
    CATEGORIES,
    SKILL_CATEGORIES,
    SKILLS,
    canonical_skill,
    extract_skills,
    skills_by_category,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We use JS and k8s", ["JavaScript", "Kubernetes"]),
        ("ＰＹＴＨＯＮ３年以上", ["Python"]),
        ("パイソンでの開発経験", ["Python"]),
        ("機械学習とデータ分析の経験", ["Machine Learning", "Data Analysis"]),
        ("Python経験とAWS", ["Python", "AWS"]),
        ("ﾊﾟｲｿﾝ", ["Python"]),  # half-width katakana
        ("Golang, Go言語", ["Go"]),
        ("C/C++ and C#", ["C", "C++", "C#"]),
        ("Node.js and React Native", ["Node.js", "React Native"]),
        ("TOEIC 800, ビジネス英語", ["English"]),
    ],
)
def test_aliases_map_to_canonical_names(text, expected):
    assert extract_skills(text) == expected


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("JavaScript only", "Java"),
        ("PostgreSQL and MySQL", "SQL"),
        ("C++ developer", "C"),
        ("Go to the office on Mondays", "Go"),
        ("Our R&D team", "R"),
        ("C-level executives", "C"),
        ("USB-C chargers", "C"),
        ("react to feedback quickly", "React"),
        ("we excel at service", "Excel"),
        ("Spring 2027 internship", "Spring"),
        ("HTML5 and XML", "Machine Learning"),
        ("a Japanese company with English-speaking staff", "English"),
        ("日本語の文書を理解するモデル", "Japanese"),
    ],
)
def test_word_boundaries_and_guards_prevent_false_matches(text, absent):
    assert absent not in extract_skills(text)


def test_results_are_unique_and_in_order_of_first_appearance():
    assert extract_skills("Docker, Python, docker, python, DOCKER") == ["Docker", "Python"]


def test_empty_text():
    assert extract_skills("") == []


@pytest.mark.parametrize(
    ("name", "canonical"),
    [("JS", "JavaScript"), ("k8s", "Kubernetes"), ("ｐｙｔｈｏｎ", "Python"), ("英語", "English"), ("golang", "Go")],
)
def test_canonical_skill(name, canonical):
    assert canonical_skill(name) == canonical


def test_canonical_skill_unknown():
    assert canonical_skill("Underwater basket weaving") is None
    assert canonical_skill("  ") is None


def test_every_skill_has_one_of_the_four_profile_categories():
    assert set(SKILL_CATEGORIES) == set(SKILLS)
    assert set(SKILL_CATEGORIES.values()) == set(CATEGORIES)
    assert SKILL_CATEGORIES["Python"] == "programming_languages"
    assert SKILL_CATEGORIES["React"] == "frameworks_libraries"
    assert SKILL_CATEGORIES["Kubernetes"] == "tools_platforms"
    assert SKILL_CATEGORIES["Communication"] == "soft_skills"


def test_skills_by_category_splits_and_drops_unknown():
    grouped = skills_by_category(["Python", "Django", "Docker", "Teamwork", "Nonsense", "Python"])
    assert grouped == {
        "programming_languages": ["Python"],
        "frameworks_libraries": ["Django"],
        "tools_platforms": ["Docker"],
        "soft_skills": ["Teamwork"],
    }
