"""Content negotiation of the JSON-only API views."""

from __future__ import annotations

from typing import Any

from rest_framework import renderers
from rest_framework.negotiation import DefaultContentNegotiation


class JsonOnlyNegotiation(DefaultContentNegotiation):
    """Always the view's first renderer (JSON): the API speaks nothing else, so the Accept header is not parsed
    (DRF's negotiation cost ≈ 0.05 ms a call). ``?format=`` of the result detail view chooses an export format
    (xml, fhir), not a DRF renderer. Request parsers are still selected by Content-Type (415 otherwise)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON renderer (UTF-8), falling back to ASCII escapes when a body holds a lone surrogate — a client's
    ``\\ud800`` echoed in an error message ("… is not a valid choice") cannot be UTF-8 and would otherwise fail after
    the view, outside the error handler."""

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            self.ensure_ascii = True
            return super().render(data, accepted_media_type, renderer_context)
