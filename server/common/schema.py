"""OpenAPI helpers: the error envelope of server/common/errors.py, documented once and reused by every view."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import serializers
from rest_framework.response import Response

from server.common.negotiation import JSONRenderer


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="stable machine-readable code")
    message = serializers.CharField(help_text="Japanese message for the screen")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False, help_text="per-field messages"
    )


class ErrorEnvelopeSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()
    server_time = serializers.DateTimeField()


def error_response(*codes: str) -> OpenApiResponse:
    """An error response whose description lists the stable codes that this status can carry."""
    return OpenApiResponse(ErrorEnvelopeSerializer, description="error.code: " + ", ".join(f"`{c}`" for c in codes))


SIGNATURE_CODES = (
    "signature_required",
    "unknown_device",
    "bad_signature",
    "clock_skew",
    "replayed_request",
    "bad_content_digest",
)
SIGNED_ERRORS: dict[int, OpenApiResponse] = {
    401: error_response(*SIGNATURE_CODES),
    403: error_response("device_retired", "device_deregistered"),
    # Every signed call claims its nonce in Redis: without Redis (or the database) it answers 503, Retry-After: 30.
    503: error_response("service_unavailable"),
}


def with_server_time(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "server_time": timezone.now().isoformat()}


def envelope(name: str, fields: dict[str, serializers.Field]) -> serializers.Serializer:
    """A documented success body that also carries server_time."""
    return inline_serializer(name, {**fields, "server_time": serializers.DateTimeField()})


class _JsonErrors:
    """Errors of a view whose success is not JSON (the OpenAPI document, the Swagger page) still answer the JSON
    envelope: a wrong method is 405 ``method_not_allowed`` as application/json, not YAML or HTML."""

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)  # type: ignore[misc]
        self.request.accepted_renderer = JSONRenderer()  # type: ignore[attr-defined]
        self.request.accepted_media_type = JSONRenderer.media_type  # type: ignore[attr-defined]
        return response


class SchemaView(_JsonErrors, SpectacularAPIView):
    """/api/schema/ (S12)."""


class SchemaDocsView(_JsonErrors, SpectacularSwaggerView):
    """/api/docs/."""
