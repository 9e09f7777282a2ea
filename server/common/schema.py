"""OpenAPI helpers: the error envelope of server/common/errors.py, documented once and reused by every view."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import serializers
from rest_framework.response import Response

from server.common.negotiation import JSONRenderer
from server.common.serializers import strict_component_names


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


# Errors of any endpoint that reads a JSON body, documented next to the endpoint's own codes (S12).
BODY_400_CODES = ("validation_error", "malformed_request")
JSON_BODY_ERRORS: dict[int, OpenApiResponse] = {415: error_response("unsupported_media_type")}
SIGNED_BODY_ERRORS: dict[int, OpenApiResponse] = {**JSON_BODY_ERRORS, 413: error_response("payload_too_large")}


# Components that document the fields of an object without requiring an object: a batch item is judged by itself
# (rejected ``invalid_item`` when it is not an object), never a malformed batch (server/results/api/serializers.py).
UNTYPED_COMPONENTS = {"BatchItem"}

# --- every answer documented (issue 15 point 5) ------------------------------------------------------------------

_RETRY_AFTER = {
    "Retry-After": {"schema": {"type": "integer"}, "required": True, "description": "seconds to wait before trying again"}
}
# Operations that touch neither PostgreSQL nor Redis: they cannot answer 503.
NO_SERVICE_OPERATIONS = {"ping", "server_version"}


def _add_error(responses: dict[str, Any], status: str, *codes: str, headers: dict | None = None) -> None:
    response = responses.get(status)
    if response is None:
        responses[status] = response = {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
            "description": "error.code: " + ", ".join(f"`{c}`" for c in codes),
        }
    else:
        missing = [c for c in codes if f"`{c}`" not in response.get("description", "")]
        if missing:
            prefix = response.get("description") or "error.code:"
            separator = ", " if "`" in prefix else " "
            response["description"] = prefix + separator + ", ".join(f"`{c}`" for c in missing)
    if headers:
        response.setdefault("headers", {}).update(headers)


# OpenAPI links: what an answer hands to the next call, so that schemathesis's stateful run follows the terminal's
# workflow — (server reachable →) register → heartbeat → push → search → detail → export — and the console's and the
# sandbox's. (source operation, status) → {link name: (target operation, parameters, request body)}.
LINKS: dict[tuple[str, str], dict[str, tuple[str, dict[str, str], dict[str, str] | None]]] = {
    ("ping", "200"): {"register": ("devices_register", {}, None)},
    ("devices_register", "201"): {"heartbeat": ("devices_me_heartbeat", {}, None)},
    ("devices_me_heartbeat", "200"): {"push": ("results_batch", {}, None)},
    ("results_batch", "200"): {
        "search": ("results_list", {"scope": "device"}, None),
        "detail": ("results_detail", {"result_id": "$response.body#/items/0/id"}, None),
    },
    ("results_list", "200"): {
        "detail": ("results_detail", {"result_id": "$response.body#/results/0/id"}, None),
        "next_page": ("results_list", {"cursor": "$response.body#/next"}, None),
        "export": ("results_export_create", {}, {"scope": "device"}),
    },
    ("results_export_create", "202"): {
        "status": ("results_export_status", {"export_id": "$response.body#/export_id"}, None)
    },
    ("results_export_status", "200"): {
        "download": ("results_export_download", {"export_id": "$response.body#/export_id"}, None)
    },
    ("console_results_export_create", "202"): {
        "status": ("console_results_export_status", {"export_id": "$response.body#/export_id"}, None)
    },
    ("console_results_export_status", "200"): {
        "download": ("console_results_export_download", {"export_id": "$response.body#/export_id"}, None)
    },
    ("audit_events_list", "200"): {"next_page": ("audit_events_list", {"cursor": "$response.body#/next"}, None)},
    ("notices_list", "200"): {
        "detail": ("notices_detail", {"notice_id": "$response.body#/notices/0/id"}, None),
        "read": ("notices_read", {"notice_id": "$response.body#/notices/0/id"}, None),
    },
    ("sandbox_challenges_create", "201"): {
        "query": ("sandbox_qualifications_create", {}, {"challenge": "$response.body#/challenge"}),
        "register": ("sandbox_registrations_create", {}, {"challenge": "$response.body#/challenge"}),
    },
    ("sandbox_registrations_create", "202"): {
        "status": ("sandbox_registrations_retrieve", {"registration_id": "$response.body#/registration_id"}, None)
    },
}


def _add_links(operation: dict[str, Any]) -> None:
    for (source, status), links in LINKS.items():
        if operation.get("operationId") != source or status not in operation["responses"]:
            continue
        target = operation["responses"][status].setdefault("links", {})
        for name, (operation_id, parameters, body) in links.items():
            target[name] = {"operationId": operation_id, "parameters": parameters}
            if body is not None:
                target[name]["requestBody"] = body


def _without_nul(schema: dict[str, Any]) -> None:
    """Text a view reads never holds NUL (PostgreSQL cannot store it; DRF and server.common.parsing refuse it)."""
    if schema.get("type") != "string" or "enum" in schema or "format" in schema:
        return
    pattern = schema.get("pattern")
    if pattern is None:
        schema["pattern"] = "^[^\\u0000]*$"
    elif not pattern.startswith("^"):
        schema["pattern"] = f"^[^\\u0000]*(?:{pattern})[^\\u0000]*$"


def _empty_means_absent(parameter: dict[str, Any]) -> None:
    """An optional query parameter sent empty (``?date_to=``, as a form with an empty field sends it) is taken as
    not given by every view: say so, so that ``""`` is a valid value of its schema."""
    schema = parameter.get("schema", {})
    if parameter.get("in") != "query" or parameter.get("required") or not schema:
        return
    if "enum" in schema and schema.get("type") == "string":
        if "" not in schema["enum"]:
            schema["enum"] = [*schema["enum"], ""]
    elif schema.get("type") != "string" or "format" in schema or "pattern" in schema or schema.get("minLength"):
        parameter["schema"] = {"anyOf": [schema, {"type": "string", "maxLength": 0}]}
    else:
        return
    parameter["description"] = (parameter.get("description", "") + " (empty: not given)").strip()


def complete_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: every status code each operation can answer, with its error codes —
    the ones its own view raises are documented on the view; these come from the layers around every view:
    the URL router (404 of a path parameter that names nothing, 405 of another method), the body parser (400, 413,
    415), device signatures (401, 403, 413) and console sessions (401, 403), and PostgreSQL or Redis out of reach
    (503 with Retry-After)."""
    strict = strict_component_names()
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name in strict:
            component["additionalProperties"] = False
            for field in component.get("properties", {}).values():
                _without_nul(field)
        if name in UNTYPED_COMPONENTS:
            component.pop("type", None)
    for path, item in result.get("paths", {}).items():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    _without_nul(parameter.get("schema", {}))
                _empty_means_absent(parameter)
            _add_links(operation)
            responses = operation["responses"]
            schemes = {name for requirement in operation.get("security", []) for name in requirement}
            _add_error(responses, "405", "method_not_allowed")
            if "{" in path:
                _add_error(responses, "404", "not_found")
            if "requestBody" in operation:
                _add_error(responses, "400", "validation_error", "malformed_request")
                _add_error(responses, "413", "payload_too_large")
                _add_error(responses, "415", "unsupported_media_type")
            if "deviceSignature" in schemes:
                _add_error(responses, "401", *SIGNATURE_CODES)
                _add_error(responses, "403", "device_retired", "device_deregistered")
                _add_error(responses, "413", "payload_too_large")
            if "cookieAuth" in schemes:
                _add_error(responses, "401", "not_authenticated")
                _add_error(responses, "403", "permission_denied")
            if "429" in responses:
                _add_error(responses, "429", "rate_limited", headers=_RETRY_AFTER)
            if operation.get("operationId") not in NO_SERVICE_OPERATIONS:
                _add_error(responses, "503", "service_unavailable", headers=_RETRY_AFTER)
    return result


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
