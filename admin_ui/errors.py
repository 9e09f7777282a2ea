"""Error pages (A01): Japanese 403, 404, 500 and CSRF failures in the console's style; JSON envelopes for the API.

Django's own pages are English (and its technical ones show settings): these replace them through ``handler403``,
``handler404``, ``handler500`` (server/urls.py) and ``CSRF_FAILURE_VIEW``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from admin_ui.access import FORBIDDEN, console_context, membership_of
from server.common.errors import error_body

logger = logging.getLogger(__name__)

_API_PREFIXES = ("/api/", "/sandbox/")
_PAGES = {
    403: FORBIDDEN,
    404: ("ページが見つかりません", "お探しのページは見つかりませんでした。URLに誤りがないか、または削除されていないかご確認ください。"),
    500: ("エラーが発生しました", "サーバーでエラーが発生しました。時間をおいて再度お試しください。解決しない場合はシステムの担当者にお問い合わせください。"),
}
_API_ERRORS = {
    403: ("permission_denied", "この操作は許可されていません。"),
    404: ("not_found", "対象が見つかりません。"),
    500: ("internal_error", "サーバーでエラーが発生しました。時間をおいて再度お試しください。"),
}
CSRF_FAILED = "画面の有効期限が切れたか、正しくない操作が行われました。画面を開き直してから、もう一度操作してください。"


def _context(request: HttpRequest, status: int) -> dict[str, Any]:
    membership = None
    if status != 500:  # a 500 may come from the database itself: do not ask it again
        try:
            membership = membership_of(getattr(request, "user", None))
        except Exception:  # pragma: no cover - the page must render whatever broke
            logger.exception("membership lookup on an error page")
    title, message = _PAGES[status]
    return {**console_context(membership), "error_title": title, "error_message": message, "status": status}


def _page(request: HttpRequest, status: int, message: str | None = None) -> HttpResponse:
    if request.path.startswith(_API_PREFIXES):
        code, text = _API_ERRORS[status]
        return JsonResponse(error_body(code, message or text), status=status, json_dumps_params={"ensure_ascii": False})
    context = _context(request, status)
    if message:
        context["error_message"] = message
    template = "admin_ui/error_plain.html" if status == 500 else "admin_ui/error.html"
    # render_to_string without the request's context processors for a 500: they may touch the session or database.
    html = render_to_string(template, context, request=None if status == 500 else request)
    return HttpResponse(html, status=status)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 403)


def server_error(request: HttpRequest) -> HttpResponse:
    return _page(request, 500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _page(request, 403, CSRF_FAILED)
