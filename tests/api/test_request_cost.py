"""The request path's shortcuts give what the code they stand in for gives: django-csp's header built
once per process, DRF's content negotiation for a plain Accept, the API's URL matches remembered per
path, and query parameters validated once per distinct query (config/middleware.py, config/api)."""

import pytest
from csp.constants import NONCE
from csp.decorators import csp_update
from csp.utils import build_policy
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import resolve
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import ValidationError
from rest_framework.test import APIClient

from catalog.jobs.serializers import JobListingQuerySerializer
from config.api.query import query_params_validated, serializer_is_pure
from config.middleware import CSPMiddleware

pytestmark = pytest.mark.django_db


def _csp(view, path="/somewhere"):
    request = RequestFactory().get(path)
    middleware = CSPMiddleware(view)
    middleware.process_request(request)
    return middleware.process_response(request, view(request))


def test_the_csp_header_is_django_csps_own_and_follows_the_settings(settings):
    response = _csp(lambda request: HttpResponse("ok"))
    assert response["Content-Security-Policy"] == build_policy()
    assert "Content-Security-Policy-Report-Only" not in response

    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {
        "EXCLUDE_URL_PREFIXES": ["/quiet"],
        "DIRECTIVES": {"img-src": ["'self'"]},
    }
    response = _csp(lambda request: HttpResponse("ok"))
    assert response["Content-Security-Policy"] == "default-src 'none'"
    assert response["Content-Security-Policy-Report-Only"] == build_policy(report_only=True)
    assert "Content-Security-Policy-Report-Only" not in _csp(lambda request: HttpResponse("ok"), "/quiet/x")


def test_a_response_with_its_own_policy_or_a_used_nonce_gets_django_csps_answer(settings):
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"script-src": ["'self'", NONCE]}}

    @csp_update({"img-src": ["data:"]})
    def with_update(request):
        return HttpResponse("ok")

    def with_nonce(request):
        str(request.csp_nonce)  # a template used it
        return HttpResponse("ok")

    assert "img-src data:" in _csp(with_update)["Content-Security-Policy"]
    request = RequestFactory().get("/")
    middleware = CSPMiddleware(with_nonce)
    middleware.process_request(request)
    header = middleware.process_response(request, with_nonce(request))["Content-Security-Policy"]
    assert f"'nonce-{request._csp_nonce}'" in header
    assert "'nonce-" not in _csp(lambda request: HttpResponse("ok"))["Content-Security-Policy"]


def _token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_content_negotiation_answers_json_for_plain_accepts_and_refuses_others_as_drf_does(user):
    api_client = _token_client(user)
    for accept in (None, "*/*", "application/json"):
        headers = {} if accept is None else {"HTTP_ACCEPT": accept}
        response = api_client.get("/api/v1/me", **headers)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
    assert api_client.get("/api/v1/me", HTTP_ACCEPT="text/html").status_code == 406
    assert api_client.get("/api/v1/me", HTTP_ACCEPT="application/json; indent=4").content.startswith(b"{\n")
    assert api_client.get("/api/v1/me?format=xml").status_code == 404


def test_a_remembered_url_match_gives_each_request_its_own_arguments():
    first = resolve("/api/v1/emails/21")
    again = resolve("/api/v1/emails/21")
    assert first.kwargs == again.kwargs == {"email_id": 21}
    assert first.kwargs is not again.kwargs
    assert (again.url_name, again.namespace, again.route) == ("emails-detail", "v1", "api/v1/emails/<int:email_id>")
    again.kwargs["email_id"] = 99
    assert resolve("/api/v1/emails/21").kwargs == {"email_id": 21}
    assert resolve("/api/v1/no-such-thing").func.__name__ == "api_not_found"


def test_query_parameters_are_validated_as_the_serializer_does_once_per_query():
    assert query_params_validated(JobListingQuerySerializer, {}) == {
        "q": "",
        "location": "",
        "remote": None,
        "skill": "",
        "posted_since": None,
    }
    answer = query_params_validated(JobListingQuerySerializer, {"remote": "true", "q": "go"})
    assert answer["remote"] is True
    assert answer["q"] == "go"
    answer["q"] = "changed by a caller"
    assert query_params_validated(JobListingQuerySerializer, {"remote": "true", "q": "go"})["q"] == "go"
    for _ in range(2):  # an invalid query is refused every time
        with pytest.raises(ValidationError):
            query_params_validated(JobListingQuerySerializer, {"remote": "maybe"})


def test_a_serializer_whose_answer_depends_on_more_than_the_query_is_validated_every_time():
    calls = []

    class Checked(serializers.Serializer):
        name = serializers.CharField(required=False)

        def validate_name(self, value):
            calls.append(value)
            return value

    class Dated(serializers.Serializer):
        when = serializers.DateTimeField(default=lambda: calls.append("now") or None)

    assert not serializer_is_pure(Checked)
    assert not serializer_is_pure(Dated)
    assert serializer_is_pure(JobListingQuerySerializer)
    query_params_validated(Checked, {"name": "a"})
    query_params_validated(Checked, {"name": "a"})
    assert calls == ["a", "a"]


def test_the_jobs_and_digest_lists_answer_bad_queries_with_400(user):
    client = _token_client(user)
    assert client.get("/api/v1/jobs/?remote=maybe").status_code == 400
    assert client.get("/api/v1/jobs/?remote=maybe").status_code == 400
    assert client.get("/api/v1/jobs/?remote=true").status_code == 200
    assert client.get(f"/api/v1/digests/?user_id={'x' * 101}").status_code == 400


def test_the_kept_prometheus_counters_are_the_ones_metrics_reports(user):
    from django_prometheus.middleware import Metrics

    counter = Metrics.get_instance().responses_by_status_view_method
    child = counter.labels(status="200", view="v1:me", method="GET")
    before = child._value.get()
    client = _token_client(user)
    for _ in range(3):
        assert client.get("/api/v1/me").status_code == 200
    assert child._value.get() == before + 3
