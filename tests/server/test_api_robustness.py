"""Never a 500: arbitrary signed input to the terminal API always ends in the JSON envelope or a success."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)
fuzz = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def assert_handled(response):
    assert response.status_code < 500, response.content
    body = response.json()
    if response.status_code >= 400:
        assert body["error"]["code"] and body["error"]["message"]


@fuzz
@given(
    params=st.dictionaries(
        st.sampled_from(["scope", "date_from", "date_to", "page_size", "cursor"]),
        st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=12),
    )
)
def test_search_params(terminal, params):
    assert_handled(terminal.call("GET", "/api/v1/results", params=params))


@fuzz
@given(body=json_values | st.fixed_dictionaries({"results": st.lists(json_values, max_size=3)}))
def test_batch_bodies(terminal, body):
    assert_handled(terminal.call("POST", "/api/v1/results/batch", body))


@fuzz
@given(
    body=json_values
    | st.dictionaries(
        st.sampled_from(["institution_code", "account_id", "password", "activation_code", "public_key", "device_name"]),
        json_values,
    )
)
def test_registration_bodies(api_client, institution, body):
    assert_handled(api_client.post("/api/v1/devices/register", body, format="json"))


@fuzz
@given(
    headers=st.dictionaries(
        st.sampled_from(["Signature", "Signature-Input", "Content-Digest"]),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
    )
)
def test_garbage_signature_headers(terminal, headers):
    assert_handled(terminal.call("GET", "/api/v1/devices/me", headers=headers))
