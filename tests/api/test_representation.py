"""config.api.representation: the read endpoints' output, built without DRF's per-request cost, is
exactly DRF's (same JSON bytes) on the serializers that use it, in UTC and in another time zone."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework import serializers

from batches.models import Batch, BatchItem, BatchPart
from batches.selectors import batch_get, batches_list
from batches.serializers import BatchItemSerializer, BatchSerializer
from catalog.jobs.models import JobListing
from catalog.jobs.selectors import job_listings_list
from catalog.jobs.serializers import JobListingSerializer
from config.api.renderers import JSONRenderer
from config.api.representation import Representation, representation_for
from emails.models import Email
from emails.serializers import EmailDetailSerializer, EmailListSerializer
from profiles.matching.serializers import DigestDetailSerializer, DigestListSerializer, MatchListSerializer
from profiles.models import DailyDigest, JobScore, UserProfile
from profiles.serializers import ProfileSerializer
from tests.factories import JobFactory, JobScoreFactory

pytestmark = pytest.mark.django_db

ODD = datetime.datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=datetime.UTC)


def _json(data: object) -> bytes:
    return JSONRenderer().render(data)


@pytest.fixture
def data(tmp_path):
    call_command("loadtest_seed", out=str(tmp_path / "seed.json"), jobs=30, people=2, scores=12, batches=2)
    # Edge values: no feed, no date, no salary, non-ASCII text, a whole-second time, a retry chain with parts.
    JobFactory(title="新卒エンジニア 🚀", posted_at=None, salary_min=None, salary_max=None, remote=True)
    JobFactory(posted_at=ODD.replace(microsecond=0), salary_min=Decimal("1234.5"), skills=[])
    score = JobScore.objects.select_related("job").first()
    score.user_feedback, score.user_feedback_at, score.user_interested = "salary", ODD, False
    score.save()
    JobScoreFactory(job=JobListing.objects.get(posted_at=None), compatibility_score=12.25)
    first, second = Batch.objects.order_by("pk")[:2]
    second.retry_of = first
    second.cost_usd = Decimal("0.123456")
    second.save()
    BatchPart.objects.create(batch=second, number=2, filename="b.jsonl", retry_at=ODD, error_message="ça")
    BatchPart.objects.create(batch=second, number=1, filename="a.jsonl", line_count=3)
    item = BatchItem.objects.filter(batch=second).first()
    item.subject_type, item.subject_id = ContentType.objects.get_for_model(JobListing), 7
    item.save()


def _cases():
    yield JobListingSerializer, lambda: list(job_listings_list(include_inactive=True))
    yield DigestListSerializer, lambda: list(DailyDigest.objects.select_related("profile").order_by("pk"))
    yield DigestDetailSerializer, lambda: list(DailyDigest.objects.select_related("profile").order_by("pk"))
    yield ProfileSerializer, lambda: list(UserProfile.objects.select_related("owner").order_by("pk"))
    yield BatchSerializer, lambda: list(batches_list())
    yield BatchItemSerializer, lambda: list(BatchItem.objects.select_related("subject_type").order_by("pk"))
    yield EmailListSerializer, lambda: list(Email.objects.order_by("pk"))
    yield EmailDetailSerializer, lambda: list(Email.objects.order_by("pk"))


@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo"])
@pytest.mark.parametrize(("serializer_class", "rows"), list(_cases()), ids=lambda case: getattr(case, "__name__", ""))
def test_many_is_drf_s_output_byte_for_byte(data, zone, serializer_class, rows):
    with timezone.override(zone):
        objects = rows()
        assert objects
        expected = _json(serializer_class(objects, many=True).data)
        assert _json(Representation(serializer_class).many(rows())) == expected


def test_one_reads_mappings_and_nested_lists_like_drf(data):
    profile = UserProfile.objects.first()
    matches = list(JobScore.objects.filter(profile=profile).select_related("job").order_by("-compatibility_score"))
    listing = {"user_id": profile.user_id, "count": len(matches), "matches": matches}

    assert _json(representation_for(MatchListSerializer).one(listing)) == _json(MatchListSerializer(listing).data)
    batch = batch_get(batch_id=Batch.objects.exclude(retry_of=None).get().batch_id)
    assert _json(representation_for(BatchSerializer).one(batch)) == _json(BatchSerializer(batch).data)


def test_method_fields_see_the_callers_context(data):
    items = list(BatchItem.objects.select_related("subject_type").order_by("pk")[:3])
    context = {"results": {items[0].pk: {"title": "stored"}}}

    got = Representation(BatchItemSerializer).many(items, context=context)

    assert got[0]["result"] == {"title": "stored"}
    assert got[1]["result"] is None
    assert _json(got) == _json(BatchItemSerializer(items, many=True, context=context).data)


def test_a_serializer_with_its_own_to_representation_is_refused():
    class Custom(serializers.Serializer):
        name = serializers.CharField()

        def to_representation(self, instance):
            return {"name": "custom"}

    with pytest.raises(TypeError, match="overrides to_representation"):
        Representation(Custom).many([{"name": "x"}])


def test_timestamps_read_from_postgresql_are_utc_aware(data):
    """config/db.py reads `timestamptz` with psycopg's C loader: the same aware UTC values as Django's."""
    JobFactory(guid="tz-check", posted_at=ODD)
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz, NULL::timestamptz", [ODD])
        value, missing = cursor.fetchone()

    assert value == ODD
    assert value.tzinfo is datetime.UTC
    assert missing is None
    assert JobListing.objects.get(guid="tz-check").posted_at == ODD
