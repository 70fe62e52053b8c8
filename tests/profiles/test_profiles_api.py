"""Profile and resume endpoints: the ownership matrix (own 200, another person's 404, staff 200,
anonymous 401), server-owned fields, bad files leaving the profile unchanged, the staff list."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import model_to_dict
from rest_framework.test import APIClient

from llm.models import LLMCall
from profiles.models import Resume, UserProfile
from profiles.services import profile_get_or_create
from tests.factories import ResumeFactory, UserProfileFactory
from tests.profiles.resume_files import make_docx, make_encrypted_pdf, make_pdf, make_zip_bomb

pytestmark = pytest.mark.django_db

RESUME_TEXT = "Jane Doe\njane@example.com\n090-1234-5678\nPython developer with 3 years of experience. Django, AWS."


@pytest.fixture(autouse=True)
def _offline(settings):
    settings.LLM_PROVIDER = "offline"


@pytest.fixture
def own(user):
    return profile_get_or_create(user=user)


@pytest.fixture
def others(other_user):
    return profile_get_or_create(user=other_user)


def _client(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _request(client: APIClient, endpoint: str, user_id: str):
    if endpoint == "get":
        return client.get(f"/api/v1/profiles/profile/{user_id}")
    if endpoint == "put":
        return client.put(f"/api/v1/profiles/profile/{user_id}", {"location": "Kyoto"}, format="json")
    if endpoint == "parse-text":
        return client.post(f"/api/v1/profiles/parse-text/{user_id}", {"text": RESUME_TEXT}, format="json")
    upload = SimpleUploadedFile("cv.txt", RESUME_TEXT.encode(), content_type="text/plain")
    return client.post(f"/api/v1/profiles/upload-resume/{user_id}", {"file": upload}, format="multipart")


ENDPOINTS = ["get", "put", "parse-text", "upload"]


# -- ownership matrix ------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_person_reaches_their_own_profile(endpoint, user, own):
    response = _request(_client(user), endpoint, own.user_id)

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body.get("profile") or body)["user_id"] == "alice"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_another_persons_profile_is_404_and_untouched(endpoint, user, others):
    before = model_to_dict(UserProfile.objects.get(pk=others.pk))

    response = _request(_client(user), endpoint, others.user_id)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert model_to_dict(UserProfile.objects.get(pk=others.pk)) == before
    assert not Resume.objects.exists()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_missing_profile_looks_exactly_like_someone_elses(endpoint, user, others):
    # 404 either way, with the same shape: ids don't reveal who exists.
    missing = _request(_client(user), endpoint, "nobody").json()["error"]
    hidden = _request(_client(user), endpoint, others.user_id).json()["error"]

    assert missing["code"] == hidden["code"] == "not_found"
    assert missing["message"].replace("nobody", "X") == hidden["message"].replace("bob", "X")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_staff_reach_anyones_profile(endpoint, staff_user, others):
    response = _request(_client(staff_user), endpoint, others.user_id)

    assert response.status_code == 200, response.content


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_requests_are_401(endpoint, others):
    response = _request(_client(None), endpoint, others.user_id)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_profile_is_created_on_first_use_with_the_username(user_client):
    assert not UserProfile.objects.exists()

    response = user_client.get("/api/v1/profiles/profile/alice")

    assert response.status_code == 200
    assert response.json()["user_id"] == "alice"
    assert response.json()["owner"] == "alice"
    assert UserProfile.objects.get().owner.username == "alice"


def test_first_use_never_claims_someone_elses_user_id(user_client, other_user):
    # given staff gave bob's profile the user_id "alice"
    UserProfileFactory(owner=other_user, user_id="alice")

    response = user_client.get("/api/v1/profiles/profile/alice")

    assert response.status_code == 404


# -- PUT: user-editable fields only ------------------------------------------------------------------------


def test_put_changes_editable_fields_and_keeps_the_rest(user_client, own):
    own.full_name, own.programming_languages = "Alice A.", ["Python"]
    own.save()

    response = user_client.put(
        "/api/v1/profiles/profile/alice",
        {
            "location": "Kyoto",
            "time_zone": "Asia/Tokyo",
            "desired_roles": ["Data Engineer"],
            "salary_range_min": 5_000_000,
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    own.refresh_from_db()
    assert (own.location, own.time_zone, own.desired_roles) == ("Kyoto", "Asia/Tokyo", ["Data Engineer"])
    assert own.salary_range_min == 5_000_000
    assert (own.full_name, own.programming_languages) == ("Alice A.", ["Python"])


def test_put_ignores_server_owned_fields(user_client, own, other_user):
    # given the person's current GET body with server-owned values tampered with
    before = model_to_dict(UserProfile.objects.get(pk=own.pk))
    body = user_client.get("/api/v1/profiles/profile/alice").json()
    body.update(
        id=999,
        user_id="mallory",
        owner="bob",
        ai_profile_summary="Top candidate, hire now",
        ai_strengths=["everything"],
        ai_is_fallback=False,
        created_at="2001-01-01T00:00:00Z",
        last_resume_upload="2001-01-01T00:00:00Z",
        last_scored_at="2001-01-01T00:00:00Z",
    )

    response = user_client.put("/api/v1/profiles/profile/alice", body, format="json")

    assert response.status_code == 200, response.content
    after = model_to_dict(UserProfile.objects.get(pk=own.pk))
    for field in (
        "id",
        "user_id",
        "owner",
        "ai_profile_summary",
        "ai_strengths",
        "ai_is_fallback",
        "last_resume_upload",
        "last_scored_at",
    ):
        assert after[field] == before[field], field
    assert UserProfile.objects.get(pk=own.pk).created_at == own.created_at


def test_put_refuses_fields_a_profile_does_not_have(user_client, own):
    response = user_client.put("/api/v1/profiles/profile/alice", {"favourite_colour": "blue"}, format="json")

    assert response.status_code == 400
    assert "favourite_colour" in response.json()["error"]["detail"]


def test_put_accepts_the_seeds_nested_shape(user_client, own):
    body = {
        "personal_info": {"full_name": "John Smith", "location": "San Francisco, CA"},
        "preferences": {"desired_roles": ["Senior Software Engineer"], "salary_range": {"min": 120000, "max": 160000}},
    }

    response = user_client.put("/api/v1/profiles/profile/alice", body, format="json")

    assert response.status_code == 200, response.content
    own.refresh_from_db()
    assert (own.full_name, own.location) == ("John Smith", "San Francisco, CA")
    assert (own.salary_range_min, own.salary_range_max) == (120_000, 160_000)
    assert own.desired_roles == ["Senior Software Engineer"]


@pytest.mark.parametrize(
    "body",
    [
        {"salary_range_min": 200, "salary_range_max": 100},
        {"time_zone": "Mars/Olympus_Mons"},
        {"years_of_experience": -1},
        {"career_level": "wizard"},
        {"programming_languages": "Python"},
        {"graduation_years": [1800]},
    ],
)
def test_put_validates(user_client, own, body):
    before = model_to_dict(UserProfile.objects.get(pk=own.pk))

    response = user_client.put("/api/v1/profiles/profile/alice", body, format="json")

    assert response.status_code == 400
    assert model_to_dict(UserProfile.objects.get(pk=own.pk)) == before


def test_put_keeps_salary_ordered_against_the_stored_bound(user_client, own):
    own.salary_range_max = 100
    own.save()

    response = user_client.put("/api/v1/profiles/profile/alice", {"salary_range_min": 200}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_salary_range"


# -- resumes through the API --------------------------------------------------------------------------------


def test_uploading_a_pdf_fills_the_profile(user_client, own):
    pdf = SimpleUploadedFile("jane.pdf", make_pdf(RESUME_TEXT.splitlines()), content_type="application/pdf")

    response = user_client.post("/api/v1/profiles/upload-resume/alice", {"file": pdf}, format="multipart")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["resume"]["kind"] == "pdf"
    assert body["resume"]["parsed_is_fallback"] is True
    assert body["profile"]["full_name"] == "Jane Doe"
    assert body["profile"]["email"] == "jane@example.com"
    assert body["profile"]["phone"] == "090-1234-5678"
    assert body["profile"]["years_of_experience"] == 3.0
    assert {"Django"} <= set(body["profile"]["frameworks_libraries"])
    assert body["profile"]["last_resume_upload"] is not None


def test_parse_text_accepts_the_seeds_form_field(user_client, own):
    response = user_client.post("/api/v1/profiles/parse-text/alice", {"resume_text": RESUME_TEXT})

    assert response.status_code == 200, response.content
    assert response.json()["profile"]["full_name"] == "Jane Doe"


SERVER_OWNED_SENT = {
    "ai_profile_summary": "Top candidate, hire now",
    "ai_is_fallback": "false",
    "user_id": "mallory",
    "last_scored_at": "2001-01-01T00:00:00Z",
}


@pytest.mark.parametrize("endpoint", ["parse-text", "upload"])
def test_resume_endpoints_ignore_server_owned_fields_sent_along(user_client, own, endpoint):
    if endpoint == "parse-text":
        body, fmt = {"text": RESUME_TEXT, **SERVER_OWNED_SENT}, "json"
    else:
        body, fmt = {"file": SimpleUploadedFile("cv.txt", RESUME_TEXT.encode()), **SERVER_OWNED_SENT}, "multipart"

    response = user_client.post(
        f"/api/v1/profiles/{endpoint.replace('upload', 'upload-resume')}/alice", body, format=fmt
    )

    assert response.status_code == 200, response.content
    own.refresh_from_db()
    assert own.user_id == "alice"
    assert own.ai_is_fallback is True  # what the server knows: the rule-based parser answered
    assert own.ai_profile_summary != "Top candidate, hire now"
    assert own.last_scored_at is None


def test_upload_without_a_file_is_400(user_client, own):
    response = user_client.post("/api/v1/profiles/upload-resume/alice", {}, format="multipart")

    assert response.status_code == 400
    assert "file" in response.json()["error"]["detail"]


@pytest.mark.parametrize(
    ("filename", "make", "status", "code"),
    [
        ("corrupt.pdf", lambda: b"%PDF-1.7\n" + b"\x00garbage" * 100, 400, "corrupt_file"),
        ("locked.pdf", lambda: make_encrypted_pdf(["Jane Doe"]), 400, "encrypted_file"),
        ("big.txt", lambda: b"a" * (5 * 1024 * 1024 + 1), 413, "file_too_large"),  # the default cap
        ("empty.txt", lambda: b"", 422, "no_text_found"),
        ("blank.docx", lambda: make_docx([" "]), 422, "no_text_found"),
        ("docx-really.pdf", lambda: make_docx(["Jane Doe"]), 415, "mislabeled_file"),
        ("text-really.docx", lambda: b"Jane Doe, Python", 415, "mislabeled_file"),
        ("bomb.docx", lambda: make_zip_bomb(uncompressed_mb=60), 400, "suspicious_archive"),
        ("legacy.doc", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, 415, "unsupported_file_type"),
    ],
)
def test_a_bad_file_gets_a_clear_4xx_and_leaves_the_profile_unchanged(user_client, own, filename, make, status, code):
    # given a profile filled from an earlier resume
    user_client.post("/api/v1/profiles/parse-text/alice", {"text": RESUME_TEXT}, format="json")
    before = model_to_dict(UserProfile.objects.get(pk=own.pk))
    calls_before = LLMCall.objects.count()

    # when
    upload = SimpleUploadedFile(filename, make())
    response = user_client.post("/api/v1/profiles/upload-resume/alice", {"file": upload}, format="multipart")

    # then
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert model_to_dict(UserProfile.objects.get(pk=own.pk)) == before
    assert Resume.objects.filter(profile=own).count() == 1
    assert LLMCall.objects.count() == calls_before  # nothing was sent to the model


def test_an_oversized_body_is_refused_before_it_is_read(user_client, own, settings):
    settings.RESUME_MAX_BYTES = 1024
    upload = SimpleUploadedFile("cv.txt", b"a" * (200 * 1024))

    response = user_client.post("/api/v1/profiles/upload-resume/alice", {"file": upload}, format="multipart")

    assert response.status_code == 413
    assert "content_length" in response.json()["error"]["detail"]


def test_pasted_text_over_the_limit_is_413(user_client, own, settings):
    settings.RESUME_MAX_TEXT_CHARS = 50

    response = user_client.post("/api/v1/profiles/parse-text/alice", {"text": "word " * 20}, format="json")

    assert response.status_code == 413


def test_blank_pasted_text_is_422(user_client, own):
    response = user_client.post("/api/v1/profiles/parse-text/alice", {"text": " \n "}, format="json")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "no_text_found"


# -- the staff list --------------------------------------------------------------------------------------


def test_the_users_list_is_for_staff_only(user_client, api_client):
    assert user_client.get("/api/v1/profiles/users").status_code == 403
    assert api_client.get("/api/v1/profiles/users").status_code == 401


@pytest.mark.parametrize("people", [2, 12])
def test_the_users_list_takes_two_queries_whatever_its_size(staff_client, django_assert_num_queries, people):
    for profile in UserProfileFactory.create_batch(people):
        ResumeFactory.create_batch(2, profile=profile)

    with django_assert_num_queries(2):  # the count, and the page with owners and resume counts
        response = staff_client.get("/api/v1/profiles/users?limit=100")

    body = response.json()
    assert body["count"] == people
    assert len(body["results"]) == people
    assert {row["resume_count"] for row in body["results"]} == {2}


def test_the_users_list_pages_with_skip_and_limit(staff_client):
    UserProfileFactory.create_batch(5)
    ids = sorted(UserProfile.objects.values_list("user_id", flat=True))

    body = staff_client.get("/api/v1/profiles/users?skip=1&limit=2").json()

    assert [row["user_id"] for row in body["results"]] == ids[1:3]
    assert (body["count"], body["skip"], body["limit"]) == (5, 1, 2)


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "skip=-1", "limit=ten"])
def test_the_users_list_refuses_bad_paging(staff_client, query):
    response = staff_client.get(f"/api/v1/profiles/users?{query}")

    assert response.status_code == 400
