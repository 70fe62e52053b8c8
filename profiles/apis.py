"""Profile and resume endpoints (seed 004's paths). People reach only their own profile; staff
reach any; another person's user_id answers 404 (profiles.selectors.profile_for_request).
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.parsers import FormParser, JSONParser, MultiPartParser
from config.api.representation import representation_for
from config.errors import DomainError
from profiles import extract
from profiles.selectors import profile_page
from profiles.serializers import (
    ProfileListSerializer,
    ProfileSerializer,
    ResumeParseResultSerializer,
    ResumeTextSerializer,
    ResumeUploadSerializer,
)
from profiles.services import profile_get_or_create_for_request, profile_update, resume_parse_text, resume_upload

# Multipart framing around the file (boundaries, part headers, the file name) fits well within this.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
ERROR_RESPONSES = {
    400: OpenApiResponse(description="Invalid request, or a damaged, encrypted or suspicious file."),
    401: OpenApiResponse(description="Not authenticated."),
    404: OpenApiResponse(description="No such profile, or not yours."),
}
FILE_ERROR_RESPONSES = {
    **ERROR_RESPONSES,
    413: OpenApiResponse(description="The file or text is larger than allowed."),
    415: OpenApiResponse(description="Not a PDF, DOCX or TXT file, or its content doesn't match its name."),
    422: OpenApiResponse(description="No text found, or the file exceeded the time/memory limits."),
}


def _parse_result(profile: object, resume: object) -> Response:
    return Response(ResumeParseResultSerializer({"profile": profile, "resume": resume}).data)


class ProfileDetailApi(APIView):
    @extend_schema(operation_id="profiles_profile_retrieve", responses={200: ProfileSerializer, **ERROR_RESPONSES})
    def get(self, request: Request, user_id: str) -> Response:
        profile = profile_get_or_create_for_request(user=request.user, user_id=user_id)
        return Response(representation_for(ProfileSerializer).one(profile))

    @extend_schema(
        operation_id="profiles_profile_update",
        request=ProfileSerializer,
        responses={200: ProfileSerializer, **ERROR_RESPONSES},
        description="Change user-editable fields; fields not sent keep their values. Server-owned fields "
        "(AI insights, timestamps, owner, user_id) are read-only: sent, they are ignored. Seed 004's nested "
        "shape (personal_info, preferences with salary_range {min, max}) is accepted too.",
    )
    def put(self, request: Request, user_id: str) -> Response:
        profile = profile_get_or_create_for_request(user=request.user, user_id=user_id)
        serializer = ProfileSerializer(instance=profile, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        profile = profile_update(profile=profile, data=dict(serializer.validated_data))
        return Response(ProfileSerializer(profile).data)


class ResumeUploadApi(APIView):
    parser_classes = [MultiPartParser]
    throttle_scope = "upload"  # settings.API_THROTTLE_RATES

    @extend_schema(
        operation_id="profiles_upload_resume",
        request={"multipart/form-data": ResumeUploadSerializer},
        responses={200: ResumeParseResultSerializer, **FILE_ERROR_RESPONSES},
        description="Upload a resume (PDF, DOCX or TXT; 5 MB by default) as multipart field `file`: its text is "
        "extracted and parsed into the profile. A refused file leaves the profile unchanged.",
    )
    def post(self, request: Request, user_id: str) -> Response:
        profile = profile_get_or_create_for_request(user=request.user, user_id=user_id)
        max_bytes = settings.RESUME_MAX_BYTES
        try:
            content_length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            content_length = 0
        if content_length > max_bytes + MULTIPART_OVERHEAD_BYTES:
            # Refused before the body is read: an oversized upload never reaches a temporary file.
            raise extract.ResumeTooLargeError(
                f"The file is larger than {extract.human_size(max_bytes)}.",
                detail={"content_length": content_length, "max_bytes": max_bytes},
            )
        serializer = ResumeUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        resume = resume_upload(profile=profile, uploaded_file=serializer.validated_data["file"])
        return _parse_result(resume.profile, resume)


class ResumeParseTextApi(APIView):
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    throttle_scope = "upload"  # settings.API_THROTTLE_RATES

    @extend_schema(
        operation_id="profiles_parse_text",
        request=ResumeTextSerializer,
        responses={200: ResumeParseResultSerializer, **FILE_ERROR_RESPONSES},
        description='Parse pasted resume text (`{"text": ...}`, or the seed\'s form field `resume_text`) '
        "into the profile.",
    )
    def post(self, request: Request, user_id: str) -> Response:
        profile = profile_get_or_create_for_request(user=request.user, user_id=user_id)
        serializer = ResumeTextSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        resume = resume_parse_text(profile=profile, text=serializer.validated_data["text"])
        return _parse_result(resume.profile, resume)


class ProfileListApi(APIView):
    permission_classes = [IsAdminUser]
    MAX_LIMIT = 500

    @extend_schema(
        operation_id="profiles_users_list",
        parameters=[
            OpenApiParameter("skip", OpenApiTypes.INT, description="Profiles to skip (default 0)."),
            OpenApiParameter("limit", OpenApiTypes.INT, description="Page size, 1 to 500 (default 100)."),
        ],
        responses={
            200: inline_serializer(
                "ProfileListPage",
                {
                    "count": serializers.IntegerField(),
                    "skip": serializers.IntegerField(),
                    "limit": serializers.IntegerField(),
                    "results": ProfileListSerializer(many=True),
                },
            ),
            400: OpenApiResponse(description="Invalid skip or limit."),
            401: OpenApiResponse(description="Not authenticated."),
            403: OpenApiResponse(description="Staff only."),
        },
        description="All profiles, for staff; two queries whatever the page size.",
    )
    def get(self, request: Request) -> Response:
        skip = self._int_param(request, "skip", default=0, low=0, high=10**9)
        limit = self._int_param(request, "limit", default=100, low=1, high=self.MAX_LIMIT)
        total, page = profile_page(skip=skip, limit=limit)
        return Response(
            {
                "count": total,
                "skip": skip,
                "limit": limit,
                "results": ProfileListSerializer(page, many=True).data,
            }
        )

    @staticmethod
    def _int_param(request: Request, name: str, *, default: int, low: int, high: int) -> int:
        raw = request.query_params.get(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise DomainError(f"{name} must be an integer from {low} to {high}.", code="validation_error")
        return value
