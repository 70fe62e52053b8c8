"""Hot reads compiled once per thread (config/compiled.py): a repeated query skips Django's compiler,
and an answer is always the one the query itself would give: another person's query, another page or
a write in between never brings back someone else's or stale rows."""

from unittest import mock

import pytest
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from config import compiled as compiled_module
from config.compiled import CompiledRows, compiled, compiled_count, compiled_first
from profiles.models import DailyDigest
from tests.factories import DigestFactory, ProfileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    compiled_module._local.__dict__.clear()
    yield
    compiled_module._local.__dict__.clear()


def _digests(owner):
    return DailyDigest.objects.select_related("profile").filter(profile__owner=owner).order_by("-digest_date", "-id")


def _dates(rows):
    return [row.digest_date.isoformat() for row in rows]


def _compilations():
    return mock.patch.object(SQLCompiler, "as_sql", autospec=True, side_effect=SQLCompiler.as_sql)


def test_each_person_gets_their_own_rows_from_the_same_code_path():
    ada, bob = ProfileFactory(), ProfileFactory()
    DigestFactory(profile=ada, digest_date=timezone.datetime(2026, 1, 1).date())
    DigestFactory(profile=bob, digest_date=timezone.datetime(2026, 2, 2).date())
    DigestFactory(profile=bob, digest_date=timezone.datetime(2026, 2, 3).date())

    first_ada = list(compiled(_digests(ada.owner), key="digests"))
    first_bob = list(compiled(_digests(bob.owner), key="digests"))
    again_ada = list(compiled(_digests(ada.owner), key="digests"))

    assert _dates(first_ada) == _dates(again_ada) == ["2026-01-01"]
    assert _dates(first_bob) == ["2026-02-03", "2026-02-02"]
    assert {row.profile.pk for row in first_bob} == {bob.pk}  # select_related filled in as usual
    assert compiled_count(_digests(bob.owner), key="digests") == 2
    assert compiled_count(_digests(ada.owner), key="digests") == 1
    assert compiled_first(_digests(bob.owner), key="digest") == first_bob[0]


def test_a_repeated_query_is_not_compiled_again_and_answers_what_was_written_since():
    ada = ProfileFactory()
    DigestFactory(profile=ada, digest_date=timezone.datetime(2026, 1, 1).date())
    list(compiled(_digests(ada.owner), key="digests"))
    compiled_count(_digests(ada.owner), key="digests")

    DigestFactory(profile=ada, digest_date=timezone.datetime(2026, 1, 2).date())
    with _compilations() as compilations:
        rows = list(compiled(_digests(ada.owner), key="digests"))
        count = compiled_count(_digests(ada.owner), key="digests")

    assert compilations.call_count == 0
    assert _dates(rows) == ["2026-01-02", "2026-01-01"]
    assert count == 2


def test_a_page_through_the_paginator_protocol_is_its_own_query():
    ada = ProfileFactory()
    for day in range(1, 6):
        DigestFactory(profile=ada, digest_date=timezone.datetime(2026, 1, day).date())
    rows = CompiledRows(_digests(ada.owner), key="digests")

    assert (rows.count(), len(rows), rows.ordered) == (5, 5, True)
    assert _dates(rows[0:2]) == ["2026-01-05", "2026-01-04"]
    assert _dates(rows[2:4]) == ["2026-01-03", "2026-01-02"]
    assert _dates(rows[4:5]) == ["2026-01-01"]


def test_anything_chained_on_a_compiled_queryset_is_compiled_anew():
    ada = ProfileFactory()
    DigestFactory(profile=ada, digest_date=timezone.datetime(2026, 1, 1).date())
    DigestFactory(profile=ada, digest_date=timezone.datetime(2026, 1, 2).date())
    answered = compiled(_digests(ada.owner), key="digests")
    list(answered)

    narrowed = answered.filter(digest_date__day=1)

    assert _dates(narrowed) == ["2026-01-01"]
    assert _dates(answered[1:]) == ["2026-01-01"]
    assert narrowed.count() == 1


def test_no_match_and_turned_off_answer_as_django_does(settings):
    ada = ProfileFactory()
    DigestFactory(profile=ada)

    assert list(compiled(_digests(ada.owner).filter(pk__in=[]), key="digests")) == []
    assert compiled_count(_digests(ada.owner).filter(pk__in=[]), key="digests") == 0
    assert compiled_first(_digests(ada.owner).none(), key="digest") is None

    settings.COMPILED_QUERIES = False
    queryset = _digests(ada.owner)
    assert compiled(queryset, key="digests") is queryset
    with _compilations() as compilations:
        assert compiled_count(queryset, key="digests") == 1
    assert compilations.call_count == 1


def test_each_thread_keeps_at_most_the_configured_number(settings):
    settings.COMPILED_QUERIES_MAX = 2
    people = [ProfileFactory() for _ in range(3)]
    for person in people:
        list(compiled(_digests(person.owner), key="digests"))

    assert len(compiled_module._local.compiled) == 2


def test_the_api_never_answers_one_person_with_another_persons_list():
    ada, bob = ProfileFactory(), ProfileFactory()
    DigestFactory(profile=ada, digest_title="for ada")
    DigestFactory(profile=bob, digest_title="for bob")
    clients = {}
    for profile in (ada, bob):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=profile.owner).key}")
        clients[profile.user_id] = client

    seen = [
        (user_id, [row["digest_title"] for row in client.get("/api/v1/digests/").json()["results"]])
        for _ in range(2)
        for user_id, client in clients.items()
    ]

    assert seen == [(ada.user_id, ["for ada"]), (bob.user_id, ["for bob"])] * 2


def test_a_repeated_query_does_not_look_its_converters_up_again_and_converts_as_django_does():
    from django.db import connection

    ada = ProfileFactory()
    DigestFactory(profile=ada, digest_date=timezone.datetime(2026, 1, 1).date(), top_jobs=[{"id": 7}])
    list(compiled(_digests(ada.owner), key="digests"))

    with mock.patch.object(connection.ops, "get_db_converters", wraps=connection.ops.get_db_converters) as looked_up:
        [kept] = compiled(_digests(ada.owner), key="digests")
    [plain] = _digests(ada.owner)

    assert looked_up.call_count == 0
    fields = [field.attname for field in DailyDigest._meta.concrete_fields]
    assert [getattr(kept, name) for name in fields] == [getattr(plain, name) for name in fields]
    assert kept.top_jobs == [{"id": 7}]
    assert kept.profile.match_weights == plain.profile.match_weights  # select_related's columns too
