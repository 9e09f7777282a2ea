"""One JSON log line and the Prometheus samples of every request (issue 16, points 2 and 3).

Placed right after ``server.common.middleware.RequestIdMiddleware``: the request id it made is bound to every log
line written while the request runs, and the line written at the end says who called (device id and institution
for a signed call, the console user's name for a session) and how it ended (route pattern, status, error code,
duration). Never the query string or the body: both may carry patient data.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse

from server.devices.models import Device
from server.ops import metrics

log = structlog.get_logger("myna.request")
QUIET_ROUTES = frozenset({"healthz", "readyz", "metrics"})  # probes and scrapes: counted, logged at debug only


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        structlog.contextvars.clear_contextvars()
        request_id = getattr(request, "id", None)
        structlog.contextvars.bind_contextvars(request_id=str(request_id) if request_id else None)
        started = time.perf_counter()
        response = self.get_response(request)
        duration = time.perf_counter() - started

        match = request.resolver_match
        route = match.route if match is not None else "unmatched"
        method = request.method or ""
        status = response.status_code
        metrics.REQUESTS.labels(route, method, str(status)).inc()
        metrics.LATENCY.labels(route, method).observe(duration)

        fields: dict[str, object] = {"method": method, "route": route, "status": status,
                                     "duration_ms": round(duration * 1000, 2)}
        code = _error_code(response)
        if code:
            fields["error_code"] = code
            metrics.API_ERRORS.labels(code, str(status)).inc()
            metrics.count_signed_refusal(code)
        device = getattr(request, "auth", None)
        if isinstance(device, Device):
            fields["device_id"] = str(device.pk)
            fields["institution_id"] = device.institution_id
        else:
            user = getattr(request, "user", None)
            if user is not None and getattr(user, "is_authenticated", False) and getattr(user, "username", ""):
                fields["user"] = user.username
        quiet = match is not None and match.url_name in QUIET_ROUTES
        (log.debug if quiet else log.info)("request", **fields)
        structlog.contextvars.clear_contextvars()
        return response


def _error_code(response: HttpResponse) -> str | None:
    """The ``error.code`` of an API error envelope (DRF keeps the data it rendered)."""
    data = getattr(response, "data", None)
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        code = data["error"].get("code")
        return str(code) if code else None
    return None
