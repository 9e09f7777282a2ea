"""N03: the sandbox API end to end: signed device calls, Redis challenges, the demo roster on PostgreSQL."""

from __future__ import annotations

import base64

import pytest

from contracts.result_schema import result_errors
from server.sandbox.error_codes import ERRORS

from .conftest import sign_challenge

pytestmark = pytest.mark.django_db

CHALLENGES = "/sandbox/onshi/v1/challenges"
QUALIFICATIONS = "/sandbox/onshi/v1/qualifications"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def new_challenge(terminal) -> bytes:
    response = terminal.call("POST", CHALLENGES, {})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {"challenge", "expires_at", "server_time"} <= body.keys()
    raw = base64.b64decode(body["challenge"])
    assert len(raw) == 32
    return raw


def query_body(card, raw_challenge: bytes, method: str = "pin", **overrides):
    body = {
        "challenge": b64(raw_challenge),
        "identity_verification": method,
        "certificate": b64(card.cert_path.read_bytes()),
        "signature": None if method == "visual" else b64(sign_challenge(card, raw_challenge)),
        "consent_specific_diseases": False,
    }
    if method == "visual":
        body["visual_attested"] = True
    body.update(overrides)
    return body


def error_code(response, status: int = 400) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["message"] and "server_time" in body
    return body["error"]["code"]


def test_pin_query_for_shikaku_taro(terminal, institution, demo_cards):
    card = demo_cards["資格 太郎"]
    response = terminal.call("POST", QUALIFICATIONS, query_body(card, new_challenge(terminal)))
    assert response.status_code == 200, response.json()
    document = response.json()["result"]
    assert result_errors(document) == []
    assert document["medical_institution_code"] == institution.code
    assert document["result_of_qualification_confirmation"]["name"] == "資格 太郎"
    assert "server_time" in response.json()


def test_visual_query_for_the_invalid_person(terminal, demo_cards):
    card = demo_cards["資格 無効子"]
    response = terminal.call("POST", QUALIFICATIONS, query_body(card, new_challenge(terminal), "visual"))
    assert response.status_code == 200, response.json()
    assert response.json()["result"]["qualification_validity"] == "2"


def test_not_registered_answers_6002(terminal, demo_cards):
    response = terminal.call("POST", QUALIFICATIONS, query_body(demo_cards["未登録 花子"], new_challenge(terminal)))
    assert error_code(response) == "E-C-04-02-A-6002"
    assert response.json()["error"]["message"].startswith(
        "マイナンバーカードを保険証として利用するための登録が必要です。"
    )


def test_replayed_challenge(terminal, demo_cards):
    card = demo_cards["資格 太郎"]
    challenge = new_challenge(terminal)
    assert terminal.call("POST", QUALIFICATIONS, query_body(card, challenge)).status_code == 200
    assert (
        error_code(terminal.call("POST", QUALIFICATIONS, query_body(card, challenge))) == ERRORS["challenge_used"].code
    )


def test_challenge_of_another_terminal(terminal, second_terminal, demo_cards):
    challenge = new_challenge(second_terminal)
    response = terminal.call("POST", QUALIFICATIONS, query_body(demo_cards["資格 太郎"], challenge))
    assert error_code(response) == ERRORS["challenge_other_device"].code


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"certificate": "not base64!!"}, "certificate"),
        ({"certificate": "QUJD"}, None),  # base64 of "ABC": decodes, but is no certificate → 6105
        ({"signature": "%%%"}, "signature"),
        ({"signature": None}, "signature"),
        ({"challenge": "AAAA"}, "challenge"),
        ({"identity_verification": "face"}, "identity_verification"),
        ({"certificate": 12}, "certificate"),
    ],
)
def test_malformed_requests_are_coded(terminal, demo_cards, overrides, field):
    body = query_body(demo_cards["資格 太郎"], new_challenge(terminal), **overrides)
    response = terminal.call("POST", QUALIFICATIONS, body)
    if field is None:
        assert error_code(response) == ERRORS["certificate_malformed"].code
    else:
        assert error_code(response) == ERRORS["malformed_request"].code
        assert field in response.json()["error"]["fields"]


def test_non_object_body_is_coded(terminal):
    assert error_code(terminal.call("POST", QUALIFICATIONS, ["x"])) == ERRORS["malformed_request"].code


def test_bad_signature_over_http(terminal, demo_cards):
    card = demo_cards["資格 太郎"]
    body = query_body(card, new_challenge(terminal), signature=b64(sign_challenge(card, b"\0" * 32)))
    assert error_code(terminal.call("POST", QUALIFICATIONS, body)) == ERRORS["signature_invalid"].code


def test_unsigned_calls_are_refused(api_client, demo_cards):
    assert error_code(api_client.post(CHALLENGES, {}, format="json"), 401) == "signature_required"
    assert error_code(api_client.post(QUALIFICATIONS, {}, format="json"), 401) == "signature_required"


def test_consent_over_http(terminal, demo_cards):
    card = demo_cards["資格 限度"]
    body = query_body(card, new_challenge(terminal), consent_specific_diseases=True)
    block = terminal.call("POST", QUALIFICATIONS, body).json()["result"]["result_of_qualification_confirmation"]
    assert len(block["specific_diseases_certificate_list"]) == 2


def test_openapi_lists_the_sandbox(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/sandbox/onshi/v1/qualifications" in text and "E-C-04-02-A-6002" in text
