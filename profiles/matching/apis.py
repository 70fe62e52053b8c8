"""Matches, on-demand scoring and digests (seed 004's paths). People reach only their own; staff
reach anyone's; another person's ids answer 404 (profiles.selectors.profile_for_request)."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.query import query_params_validated
from config.api.representation import RepresentedListAPIView, representation_for
from config.compiled import compiled
from profiles.matching.selectors import digest_for_user, digests_for_user, job_matches_for_profile
from profiles.matching.serializers import (
    DigestDetailSerializer,
    DigestListSerializer,
    DigestQuerySerializer,
    MatchFeedbackResultSerializer,
    MatchFeedbackSerializer,
    MatchListSerializer,
    MatchQuerySerializer,
    ScoreJobsQuerySerializer,
    ScoreRunSerializer,
)
from profiles.matching.services.digests import digest_view_record
from profiles.matching.services.feedback import job_score_feedback
from profiles.matching.services.scoring import job_scores_run
from profiles.models import DailyDigest
from profiles.services import profile_get_or_create_for_request

ERRORS = {
    400: OpenApiResponse(description="Invalid query parameters."),
    401: OpenApiResponse(description="Not authenticated."),
    404: OpenApiResponse(description="No such profile, match or digest, or not yours."),
}


class MatchListApi(APIView):
    @extend_schema(
        operation_id="profiles_matches",
        tags=["matching"],
        summary="A person's best current job matches (stored scores ≥ the threshold), best first.",
        parameters=[MatchQuerySerializer],
        responses={200: MatchListSerializer, **ERRORS},
    )
    def get(self, request: Request, user_id: str) -> Response:
        params = query_params_validated(MatchQuerySerializer, request.query_params)
        profile = profile_get_or_create_for_request(user=request.user, user_id=user_id, only_ids=True)
        matches = list(compiled(job_matches_for_profile(profile=profile, **params), key="matches"))
        listing = {"user_id": profile.user_id, "count": len(matches), "matches": matches}
        return Response(representation_for(MatchListSerializer).one(listing))


class MatchFeedbackApi(APIView):
    @extend_schema(
        operation_id="profiles_match_feedback",
        tags=["matching"],
        summary="Say a match interests you, that you applied, or that it doesn't interest you (and why).",
        description="`not_interested` hides the job from your matches, digests and later runs; its reason "
        "(skills, location, salary, experience) moves your prefilter weights within bounds, explained on your "
        "profile. `applied` counts once on the job. Repeating a request changes nothing more.",
        request=MatchFeedbackSerializer,
        responses={200: MatchFeedbackResultSerializer, **ERRORS},
    )
    def post(self, request: Request, user_id: str, job_id: int) -> Response:
        body = MatchFeedbackSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        profile = profile_get_or_create_for_request(user=request.user, user_id=user_id)
        score = job_score_feedback(profile=profile, job_id=job_id, **body.validated_data)
        result = {
            "user_id": profile.user_id,
            "match": score,
            "match_weights": profile.match_weights,
            "match_weights_explained": profile.match_weights_explained,
        }
        return Response(MatchFeedbackResultSerializer(result).data)


class ScoreJobsApi(APIView):
    @extend_schema(
        operation_id="profiles_score_jobs",
        tags=["matching"],
        summary="Score the person's new jobs now (bounded by job_limit and days_back).",
        description="Runs the same two-stage scoring as the hourly schedule for one person: jobs already "
        "considered are skipped, at most MATCH_LLM_TOP_K go to the model within the person's daily budget.",
        request=None,
        parameters=[ScoreJobsQuerySerializer],
        responses={200: ScoreRunSerializer, **ERRORS},
    )
    def post(self, request: Request, user_id: str) -> Response:
        params = ScoreJobsQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        profile = profile_get_or_create_for_request(user=request.user, user_id=user_id)
        summary = job_scores_run(profile_ids=[profile.id], **params.validated_data)
        return Response(ScoreRunSerializer({"user_id": profile.user_id, **vars(summary)}).data)


class DigestListApi(RepresentedListAPIView):
    serializer_class = DigestListSerializer
    queryset = DailyDigest.objects.none()  # the real one comes from get_queryset (schema generation reads this)

    @extend_schema(
        operation_id="digests_list",
        tags=["matching"],
        summary="Daily digests: your own; staff see everyone's, or one person's with ?user_id=.",
        parameters=[DigestQuerySerializer],
        responses={200: DigestListSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[DailyDigest]:
        if getattr(self, "swagger_fake_view", False):
            return DailyDigest.objects.none()
        user_id = query_params_validated(DigestQuerySerializer, self.request.query_params).get("user_id")
        profile = profile_get_or_create_for_request(user=self.request.user, user_id=user_id) if user_id else None
        # A page reads only what the list shows: not the digest's HTML and JSON, nor the person's
        # profile (twenty-odd JSON columns a row) beyond the id it names.
        listed = [name for name in DigestListSerializer.Meta.fields if name != "user_id"]
        return digests_for_user(user=self.request.user, profile=profile).only(*listed, "profile__user_id")


class DigestDetailApi(APIView):
    @extend_schema(
        operation_id="digests_retrieve",
        tags=["matching"],
        summary="One daily digest, with its HTML and engagement.",
        responses={200: DigestDetailSerializer, **ERRORS},
    )
    def get(self, request: Request, digest_id: int) -> Response:
        digest = digest_for_user(user=request.user, digest_id=digest_id)
        if digest.profile.owner_id == request.user.pk and not digest.user_viewed:
            digest = digest_view_record(digest=digest)  # its person read it; staff looking don't count
        return Response(representation_for(DigestDetailSerializer).one(digest))
