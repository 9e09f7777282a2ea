"""Structured API errors: every error body is {"error": {"code", "message", "fields"?}} with a Japanese message.

Views raise ``ApiError`` (or a DRF exception); the handler turns both into that envelope. The server's time is added
to every error so that a terminal can warn about a wrong clock.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import OperationalError as DatabaseUnavailable
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from redis.exceptions import ConnectionError as RedisUnavailable
from redis.exceptions import TimeoutError as RedisTimeout
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

logger = logging.getLogger(__name__)


class ApiError(exceptions.APIException):
    """An error with a stable machine-readable code and a Japanese message for the screen."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, code: str, message: str, http_status: int = 400, fields: dict[str, list[str]] | None = None):
        super().__init__(detail=message, code=code)
        self.code = code
        self.message = message
        self.status_code = http_status
        self.fields = fields or {}


def payload_too_large() -> ApiError:
    return ApiError("payload_too_large", "送信データが大きすぎます。件数を減らして再度お試しください。", 413)


_GENERIC = {
    exceptions.ParseError: ("malformed_request", "リクエストの形式が正しくありません。"),
    exceptions.NotAuthenticated: ("not_authenticated", "認証が必要です。"),
    exceptions.AuthenticationFailed: ("authentication_failed", "認証に失敗しました。"),
    exceptions.PermissionDenied: ("permission_denied", "この操作は許可されていません。"),
    exceptions.NotFound: ("not_found", "対象が見つかりません。"),
    exceptions.MethodNotAllowed: ("method_not_allowed", "このメソッドは使用できません。"),
    exceptions.NotAcceptable: ("not_acceptable", "指定された形式では応答できません。"),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", "Content-Type は application/json を指定してください。"),
    exceptions.Throttled: ("rate_limited", "試行回数が多すぎます。しばらく待ってから再度お試しください。"),
    exceptions.ValidationError: ("validation_error", "入力内容に誤りがあります。"),
}


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body, "server_time": timezone.now().isoformat()}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, ApiError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
    if isinstance(exc, (RedisUnavailable, RedisTimeout, DatabaseUnavailable)):
        # Redis (nonces, challenges, rate limits) or PostgreSQL cannot be reached: nothing was done, and the terminal
        # may try again (it keeps unsynced results). 503 with Retry-After, not a fault of the request.
        logger.error("service unavailable: %s", type(exc).__name__)
        set_rollback()
        response = Response(
            error_body("service_unavailable", "サーバーが一時的に利用できません。しばらく待ってから再度お試しください。"),
            status=503,
        )
        response["Retry-After"] = "30"
        return response
    response = exception_handler(exc, context)
    if response is None:
        # An unexpected exception: log it, answer with the envelope rather than Django's 500 page.
        logger.exception("unhandled API error", exc_info=exc)
        set_rollback()
        return Response(error_body("internal_error", "サーバーでエラーが発生しました。時間をおいて再度お試しください。"), status=500)
    code, message = next(
        ((c, m) for klass, (c, m) in _GENERIC.items() if isinstance(exc, klass)), ("error", "エラーが発生しました。")
    )
    fields = _flat_fields(response.data) if isinstance(exc, exceptions.ValidationError) else None
    response.data = error_body(code, message, fields)
    return response


def _flat_fields(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested errors as ``{"field": [...], "results.0": [...], "results.0.id": [...]}``: one level, so that
    ``fields`` is always a map of lists of messages (docs/contracts.md)."""
    if isinstance(errors, dict):
        flat: dict[str, list[str]] = {}
        for key, value in errors.items():
            flat.update(_flat_fields(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(errors, list) and all(not isinstance(e, (dict, list)) for e in errors):
        return {prefix or "non_field_errors": [str(e) for e in errors]}
    if isinstance(errors, list):
        flat = {}
        for index, value in enumerate(errors):
            if value:  # DRF lists {} for the items of a list that passed
                flat.update(_flat_fields(value, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or "non_field_errors": [str(errors)]}


NOT_FOUND_MESSAGE = "対象が見つかりません。"
API_PREFIXES = ("/api/", "/sandbox/")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: a request Django refuses before any view (a Host not in ALLOWED_HOSTS, a malformed multipart
    body) — the JSON envelope under /api/ and /sandbox/, Django's own page elsewhere."""
    if request.path.startswith(API_PREFIXES):
        body = error_body("bad_request", "リクエストの形式が正しくありません。")
        return JsonResponse(body, status=400, json_dumps_params={"ensure_ascii": False})
    return defaults.bad_request(request, exception)


@csrf_exempt
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any path under /api/ (or /sandbox/) that no endpoint matches, whatever the method: 404 ``not_found``.

    The last URL pattern of those prefixes, so that a mistyped path, a trailing-slash variant or a path parameter
    that is not a UUID answers the envelope — never Django's HTML 404 nor an APPEND_SLASH redirect."""
    return JsonResponse(error_body("not_found", NOT_FOUND_MESSAGE), status=404, json_dumps_params={"ensure_ascii": False})
