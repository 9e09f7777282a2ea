"""Never a 500: arbitrary query values and path ids of the notices API end in the error envelope or a success."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server.notices.helpers import error

pytestmark = pytest.mark.django_db

fuzz = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
printable = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=20)


def assert_handled(response) -> None:
    assert response.status_code < 500, response.content
    body = response.json()
    if response.status_code >= 400:
        assert body["error"]["code"] and body["error"]["message"]


@fuzz
@given(unread=printable, current=printable | st.text(max_size=12))
def test_query_values(terminal, unread, current):
    assert_handled(terminal.call("GET", "/api/v1/notices", params={"unread": unread}))
    assert_handled(terminal.call("GET", "/api/v1/app-release/latest", params={"current": current}))


@fuzz
@given(kind=st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True))
def test_document_kinds(terminal, kind):
    assert_handled(terminal.call("GET", f"/api/v1/documents/{kind}"))


def test_a_notice_id_beyond_bigint_is_not_found(terminal):
    huge = "9" * 30
    assert error(terminal.call("GET", f"/api/v1/notices/{huge}"), 404)["code"] == "not_found"
    assert error(terminal.call("POST", f"/api/v1/notices/{huge}/read"), 404)["code"] == "not_found"
