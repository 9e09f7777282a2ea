"""Japanese formatting of dates and of the qualification result (T08, T21–T24) for the terminal's screens.

The presenter itself is shared with the console and the exports: ``contracts.result_view``. This module names what
the terminal uses of it. No Qt here.
"""

from __future__ import annotations

from contracts.result_view import (
    JST,
    MSG_CERT_EXPIRING,
    MSG_CERT_GRACE,
    MSG_INVALID,
    MSG_MEDICAL_AID,
    ResultView,
    Section,
    build_result_view,
    copy_text,
    date_time_jp,
    seireki,
    validity_label,
    wareki,
    yen,
)

__all__ = [
    "JST",
    "MSG_CERT_EXPIRING",
    "MSG_CERT_GRACE",
    "MSG_INVALID",
    "MSG_MEDICAL_AID",
    "ResultView",
    "Section",
    "build_result_view",
    "copy_text",
    "date_time_jp",
    "seireki",
    "validity_label",
    "wareki",
    "yen",
]
