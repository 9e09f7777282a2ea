"""Operations endpoints: health, readiness, metrics, version. Unauthenticated by design: nginx keeps ``/metrics``
and ``/readyz`` off the public side (deploy/nginx/myna.conf), and none of them shows any clinic's data."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from prometheus_client import CONTENT_TYPE_LATEST
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from server.ops.health import healthz, readyz, server_version
from server.ops.metrics import exposition

__all__ = ["healthz", "readyz", "metrics", "VersionView"]


def metrics(request: HttpRequest) -> HttpResponse:
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)


class VersionView(APIView):
    """The clinic server's version, shown by the terminal next to its own (⚙ → ライセンス)."""

    @extend_schema(
        operation_id="server_version",
        responses={200: inline_serializer("ServerVersion", {"version": serializers.CharField(),
                                                            "api": serializers.CharField()})},
    )
    def get(self, request) -> Response:  # noqa: ANN001
        return Response({"version": server_version(), "api": "v1"})
