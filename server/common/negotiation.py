"""Content negotiation of the JSON-only API views."""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation


class JsonOnlyNegotiation(DefaultContentNegotiation):
    """Always the view's first renderer (JSON): the API speaks nothing else, so the Accept header is not parsed
    (DRF's negotiation cost ≈ 0.05 ms a call). ``?format=`` of the result detail view chooses an export format
    (xml, fhir), not a DRF renderer. Request parsers are still selected by Content-Type (415 otherwise)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
