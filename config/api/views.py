"""Platform endpoints: the API index and who-am-I."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from config.models import APIKey


class ApiRootView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=inline_serializer("ApiRoot", {"schema": serializers.URLField()}))
    def get(self, request: Request) -> Response:
        return Response(
            {
                "schema": reverse("schema", request=request),
                "docs": reverse("swagger-ui", request=request),
                "me": reverse("v1:me", request=request),
            }
        )


class MeView(APIView):
    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "username": serializers.CharField(),
                "is_staff": serializers.BooleanField(),
                "auth": serializers.ChoiceField(choices=["api_key", "token", "session"]),
            },
        )
    )
    def get(self, request: Request) -> Response:
        if isinstance(request.auth, APIKey):
            auth = "api_key"
        elif request.auth is not None:
            auth = "token"
        else:
            auth = "session"
        return Response({"username": request.user.get_username(), "is_staff": request.user.is_staff, "auth": auth})
