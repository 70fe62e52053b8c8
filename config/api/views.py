"""Platform endpoints: the API index, who-am-I, and a token for a username and password."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from config.api.throttling import AnonScopedRateThrottle
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


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenApi(APIView):
    """A person's API token (`Authorization: Token ...`) for their username and password; throttled per address."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonScopedRateThrottle]
    throttle_scope = "token"

    @extend_schema(
        operation_id="auth_token",
        tags=["auth"],
        summary="Get your API token for your username and password (the same token on every call).",
        request=TokenRequestSerializer,
        responses={200: inline_serializer("AuthToken", {"token": serializers.CharField()})},
    )
    def post(self, request: Request) -> Response:
        body = AuthTokenSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        token, _ = Token.objects.get_or_create(user=body.validated_data["user"])
        return Response({"token": token.key})
