"""N04: 保険証利用登録 as asynchronous work: processing → completed / failed, seen by the query and the terminal."""

from __future__ import annotations

import base64

import pytest

from server.common.errors import ApiError
from server.sandbox import query as q
from server.sandbox.error_codes import ERRORS
from server.sandbox.models import InsuredPerson, RegistrationRequest
from server.sandbox.tasks import complete_registration

from .conftest import MEDICAL_INSTITUTION_CODE, card_query, sign_challenge

pytestmark = pytest.mark.django_db
REGISTRATIONS = "/sandbox/onshi/v1/registrations"


def registration_state(name: str) -> str:
    return InsuredPerson.objects.get(name=name).registration


def test_registration_then_query(demo_cards, django_capture_on_commit_callbacks):
    card = demo_cards["未登録 花子"]
    with django_capture_on_commit_callbacks() as callbacks:
        request = q.request_registration(card_query(card, "pin"), terms_accepted=True)
    assert len(callbacks) == 1  # the Celery task is queued after the commit
    assert request.status == "processing" and registration_state("未登録 花子") == "processing"
    with pytest.raises(ApiError) as caught:
        q.answer_qualification_query(card_query(card), medical_institution_code=MEDICAL_INSTITUTION_CODE)
    assert caught.value.code == ERRORS["registration_processing"].code

    assert complete_registration.apply(args=(str(request.pk),)).get() == "completed"
    assert registration_state("未登録 花子") == "registered"
    document = q.answer_qualification_query(card_query(card), medical_institution_code=MEDICAL_INSTITUTION_CODE)
    assert document["result_of_qualification_confirmation"]["name"] == "未登録 花子"
    # a redelivered task changes nothing
    assert complete_registration.apply(args=(str(request.pk),)).get() == "completed"


def test_failed_registration_can_be_retried(demo_cards):
    card = demo_cards["登録 不可子"]
    request = q.request_registration(card_query(card, "visual"), terms_accepted=True)
    assert complete_registration.apply(args=(str(request.pk),)).get() == "failed"
    assert registration_state("登録 不可子") == "failed"
    with pytest.raises(ApiError) as caught:
        q.answer_qualification_query(card_query(card), medical_institution_code=MEDICAL_INSTITUTION_CODE)
    assert caught.value.code == ERRORS["registration_failed"].code
    again = q.request_registration(card_query(card, "pin"), terms_accepted=True)
    assert again.pk != request.pk and registration_state("登録 不可子") == "processing"


@pytest.mark.parametrize(
    ("name", "method", "terms", "error"),
    [
        ("資格 太郎", "pin", True, "already_registered"),
        ("登録 待子", "pin", True, "registration_processing"),
        ("携帯 未登子", "android", True, "registration_on_phone"),
        ("未登録 花子", "pin", False, "terms_not_accepted"),
    ],
)
def test_registration_refusals(demo_cards, name, method, terms, error):
    with pytest.raises(ApiError) as caught:
        q.request_registration(card_query(demo_cards[name], method), terms_accepted=terms)
    assert caught.value.code == ERRORS[error].code


def test_registration_over_http(terminal, second_terminal, demo_cards, django_capture_on_commit_callbacks):
    card = demo_cards["未登録 花子"]
    challenge = base64.b64decode(terminal.call("POST", "/sandbox/onshi/v1/challenges", {}).json()["challenge"])
    body = {
        "challenge": base64.b64encode(challenge).decode(),
        "identity_verification": "pin",
        "certificate": base64.b64encode(card.cert_path.read_bytes()).decode(),
        "signature": base64.b64encode(sign_challenge(card, challenge)).decode(),
        "terms_accepted": True,
    }
    with django_capture_on_commit_callbacks():
        response = terminal.call("POST", REGISTRATIONS, body)
    assert response.status_code == 202, response.json()
    registration_id = response.json()["registration_id"]
    assert response.json()["status"] == "processing"
    path = f"{REGISTRATIONS}/{registration_id}"
    assert terminal.call("GET", path).json()["status"] == "processing"
    complete_registration.apply(args=(registration_id,))
    assert terminal.call("GET", path).json()["status"] == "completed"
    assert RegistrationRequest.objects.get(pk=registration_id).finished_at is not None
    # another terminal cannot see it
    response = second_terminal.call("GET", path)
    assert response.status_code == 404 and response.json()["error"]["code"] == ERRORS["registration_unknown"].code
    # already registered now
    challenge = base64.b64decode(terminal.call("POST", "/sandbox/onshi/v1/challenges", {}).json()["challenge"])
    body.update(
        challenge=base64.b64encode(challenge).decode(),
        signature=base64.b64encode(sign_challenge(card, challenge)).decode(),
    )
    response = terminal.call("POST", REGISTRATIONS, body)
    assert response.status_code == 409 and response.json()["error"]["code"] == ERRORS["already_registered"].code


def test_registration_terms_over_http(terminal, client):
    """T27: the 利用規約 the patient accepts before the card is read for 健康保険証利用登録; signed calls only."""
    body = terminal.call("GET", f"{REGISTRATIONS}/terms").json()
    assert body["title"] == "健康保険証利用登録 利用規約"
    assert body["version"] and "利用登録" in body["body"] and body["server_time"]
    response = client.get(f"{REGISTRATIONS}/terms")
    assert response.status_code == 401 and response.json()["error"]["code"] == "signature_required"
