"""S11: a terminal of another institution never reads or changes this institution's data — on EVERY signed endpoint.

The endpoints are listed from the URLconf (every view authenticating with DeviceSignatureAuthentication), so a new
endpoint without a case below fails ``test_every_signed_endpoint_has_an_isolation_case``. Each case aims the foreign
terminal at the home institution's objects (ids in the path, the home account's ID, ...). The answer must be no 5xx,
must contain none of the home institution's identifiers or data (except what the request itself sent), and the home
institution's rows must be unchanged.
"""

from __future__ import annotations

import base64
import datetime
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from server.common.actor import Actor
from server.devices.authentication import DeviceSignatureAuthentication
from server.devices.models import Device
from server.institutions.actions import do_create_app_account
from server.institutions.models import AppAccount
from server.notices.actions import do_publish_notice
from server.notices.models import NoticeRead
from server.results.models import CheckResult, ResultExport
from server.sandbox.models import InsuredPerson, RegistrationRequest
from tests.server import factories
from tests.server.conftest import PASSWORD, Terminal, register

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def signed_endpoints() -> list[tuple[str, str, tuple[str, ...]]]:
    """(url name, route, methods) of every view that authenticates with a device signature."""
    found: list[tuple[str, str, tuple[str, ...]]] = []

    def walk(patterns, prefix: str) -> Iterator[None]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                view_class = getattr(pattern.callback, "view_class", None) or getattr(pattern.callback, "cls", None)
                auth = getattr(view_class, "authentication_classes", None) or []
                if any(issubclass(a, DeviceSignatureAuthentication) for a in auth):
                    methods = tuple(m.upper() for m in HTTP_METHODS if hasattr(view_class, m))
                    found.append((pattern.name, prefix + str(pattern.pattern), methods))
            yield None

    list(walk(get_resolver().url_patterns, "/"))
    return sorted(found)


SIGNED_ENDPOINTS = signed_endpoints()


@dataclass
class Home:
    """The home institution's data the foreign terminal aims at, and the strings that must never leak."""

    terminal: Terminal
    second: Terminal
    institution: Any
    account: AppAccount
    result_ids: list[str]
    notice_id: int
    export_id: str
    registration_id: str
    challenge: str
    markers: set[str] = field(default_factory=set)

    def snapshot(self) -> dict[str, Any]:
        inst = self.institution
        account = AppAccount.objects.get(pk=self.account.pk)
        return {
            "results": sorted(
                CheckResult.objects.filter(institution=inst).values_list("id", "content_hash", "device_id")
            ),
            "devices": sorted(
                Device.objects.filter(institution=inst).values_list("id", "status", "name", "app_version")
            ),
            "account": (account.password, account.failed_attempts, account.locked_until),
            "reads": NoticeRead.objects.filter(device__institution=inst).count(),
            "exports": sorted(ResultExport.objects.filter(institution=inst).values_list("id", "status")),
            "registrations": sorted(RegistrationRequest.objects.values_list("id", "status", "device_id")),
        }


@pytest.fixture
def home(institution, account) -> Home:
    terminal = register(APIClient(), institution, "隔離テスト受付")
    second = register(APIClient(), institution, "隔離テスト診察室")
    # The home account's ID exists only here; the foreign institution has its own clinic-admin.
    own = do_create_app_account(institution, "home-only-admin", PASSWORD, actor=Actor.cli("pytest"))
    items = [
        factories.batch_item(name="隔離 花子", name_kana="カクリ ハナコ", institution=institution.code),
        factories.batch_item(name="隔離 次郎", name_kana="カクリ ジロウ", institution=institution.code),
    ]
    response = terminal.call("POST", "/api/v1/results/batch", {"results": items})
    assert {o["status"] for o in response.json()["items"]} == {"stored"}, response.content
    notice = do_publish_notice(title="隔離テスト院内のお知らせ", body="院内だけの連絡です。", institution=institution, actor=Actor.cli("pytest"))
    today = datetime.date.today()
    export = ResultExport.objects.create(
        institution=institution, device=Device.objects.get(pk=terminal.device_id), date_from=today, date_to=today
    )
    person = InsuredPerson.objects.create(name="隔離 三郎", name_kana="カクリ サブロウ", birthdate="1970-01-01", sex="1")
    registration = RegistrationRequest.objects.create(person=person, device_id=terminal.device_id)
    challenge = terminal.call("POST", "/sandbox/onshi/v1/challenges", {})
    assert challenge.status_code == 201, challenge.content
    data = Home(
        terminal=terminal,
        second=second,
        institution=institution,
        account=own,
        result_ids=[i["id"] for i in items],
        notice_id=notice.pk,
        export_id=str(export.pk),
        registration_id=str(registration.pk),
        challenge=challenge.json()["challenge"],
    )
    data.markers = {
        institution.code,
        institution.name,
        terminal.device_id,
        second.device_id,
        "隔離テスト受付",
        "隔離テスト診察室",
        "home-only-admin",
        "隔離 花子",
        "カクリ ハナコ",
        "隔離 次郎",
        "隔離 三郎",
        "隔離テスト院内のお知らせ",
        "院内だけの連絡です",
        data.export_id,
        data.registration_id,
        data.challenge,
        *data.result_ids,
    }
    return data


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: Any = None
    params: dict[str, str] | None = None


def _item_aimed_at(home: Home) -> dict[str, Any]:
    """A result with the id of one of the home institution's results but other content."""
    item = factories.batch_item(name="上書き 試行")
    item["id"] = home.result_ids[0]
    return item


def _sandbox_query(home: Home) -> dict[str, Any]:
    return {
        "challenge": home.challenge,
        "identity_verification": "visual",
        "certificate": base64.b64encode(b"not a certificate").decode(),
        "signature": None,
        "visual_attested": True,
    }


# One entry per signed URL name: the calls a foreign terminal makes against the home institution's objects.
CASES: dict[str, Callable[[Home], list[Call]]] = {
    "api-device-me": lambda h: [Call("GET", reverse("api-device-me"))],
    "api-device-heartbeat": lambda h: [Call("POST", reverse("api-device-heartbeat"), {"app_version": "9.9.9"})],
    "api-device-deregister": lambda h: [Call("POST", reverse("api-device-deregister"))],
    "api-account-login": lambda h: [
        Call("POST", reverse("api-account-login"), {"account_id": "home-only-admin", "password": PASSWORD}),
    ],
    "api-account-password": lambda h: [
        Call(
            "POST",
            reverse("api-account-password"),
            {"account_id": "home-only-admin", "current_password": PASSWORD, "new_password": "Taken#Over9"},
        ),
    ],
    "api-results-batch": lambda h: [Call("POST", reverse("api-results-batch"), {"results": [_item_aimed_at(h)]})],
    "api-results": lambda h: [
        Call("GET", reverse("api-results"), params={"scope": scope}) for scope in ("device", "institution")
    ],
    "api-result-detail": lambda h: [
        Call("GET", reverse("api-result-detail", kwargs={"result_id": rid})) for rid in h.result_ids
    ],
    "api-results-exports": lambda h: [
        Call("POST", reverse("api-results-exports"), {"scope": "institution"}),
    ],
    "api-results-export": lambda h: [
        Call("GET", reverse("api-results-export", kwargs={"export_id": h.export_id})),
    ],
    "api-results-export-download": lambda h: [
        Call("GET", reverse("api-results-export-download", kwargs={"export_id": h.export_id})),
    ],
    "api-notices": lambda h: [Call("GET", reverse("api-notices"))],
    "api-notice-detail": lambda h: [Call("GET", reverse("api-notice-detail", kwargs={"notice_id": h.notice_id}))],
    "api-notice-read": lambda h: [Call("POST", reverse("api-notice-read", kwargs={"notice_id": h.notice_id}))],
    "api-document": lambda h: [
        Call("GET", reverse("api-document", kwargs={"kind": kind})) for kind in ("terms", "privacy", "licenses")
    ],
    "api-app-release-latest": lambda h: [Call("GET", reverse("api-app-release-latest"), params={"current": "0.1.0"})],
    "sandbox-challenges": lambda h: [Call("POST", reverse("sandbox-challenges"), {})],
    "sandbox-qualifications": lambda h: [Call("POST", reverse("sandbox-qualifications"), _sandbox_query(h))],
    "sandbox-registrations": lambda h: [
        Call("POST", reverse("sandbox-registrations"), {**_sandbox_query(h), "terms_accepted": True}),
    ],
    "sandbox-registration": lambda h: [
        Call("GET", reverse("sandbox-registration", kwargs={"registration_id": h.registration_id})),
    ],
    "sandbox-registration-terms": lambda h: [Call("GET", reverse("sandbox-registration-terms"))],
}


def test_every_signed_endpoint_has_an_isolation_case():
    names = {name for name, _, _ in SIGNED_ENDPOINTS}
    assert len(names) >= 15, SIGNED_ENDPOINTS  # the walk found the API, not nothing
    missing = sorted(names - set(CASES))
    assert not missing, f"signed endpoints without an isolation case in tests/server/test_isolation.py: {missing}"


def _sent_text(call: Call) -> str:
    return call.path + json.dumps(call.body, ensure_ascii=False) + json.dumps(call.params or {}, ensure_ascii=False)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "route", "methods"), SIGNED_ENDPOINTS, ids=[e[0] for e in SIGNED_ENDPOINTS])
def test_a_foreign_terminal_sees_and_changes_nothing_of_this_institution(
    name, route, methods, home, foreign_terminal
):
    if name not in CASES:
        pytest.fail(f"no isolation case for the signed endpoint {name} ({route}): add one to CASES")
    calls = CASES[name](home)
    assert {c.method for c in calls} <= set(methods)
    assert all(c.path.rstrip("/") == route.rstrip("/") or "<" in route for c in calls), (calls, route)
    before = home.snapshot()
    for call in calls:
        response = foreign_terminal.call(call.method, call.path, call.body, params=call.params)
        assert response.status_code < 500, (call, response.content[:500])
        text = response.content.decode("utf-8", errors="replace")
        sent = _sent_text(call)
        leaked = sorted(m for m in home.markers if m in text and m not in sent)
        assert not leaked, f"{call.method} {call.path} leaked {leaked}: {text[:500]}"
        # Objects of the home institution answer like unknown ones, never with their content.
        if "<" in route:
            assert response.status_code in (404, 400), (call, response.status_code, text[:300])
    assert home.snapshot() == before
    # And the home terminals still work: nothing the foreign terminal did reached them.
    assert home.terminal.call("GET", "/api/v1/devices/me").json()["status"] == "active"


@pytest.mark.django_db
def test_the_home_account_cannot_be_used_from_a_foreign_terminal(home, foreign_terminal):
    for path, body in (
        ("/api/v1/accounts/login", {"account_id": "home-only-admin", "password": PASSWORD}),
        (
            "/api/v1/accounts/password",
            {"account_id": "home-only-admin", "current_password": PASSWORD, "new_password": "Taken#Over9"},
        ),
    ):
        response = foreign_terminal.call("POST", path, body)
        assert (response.status_code, response.json()["error"]["code"]) == (401, "invalid_credentials")
    own = AppAccount.objects.get(pk=home.account.pk)
    assert own.failed_attempts == 0 and own.check_password(PASSWORD)


@pytest.mark.django_db
def test_the_home_institutions_activation_code_does_not_register_a_foreign_device(home, other_institution):
    from contracts import signing
    from server.devices.actions import do_issue_activation_code
    from tests.server.conftest import registration_body

    do_create_app_account(other_institution, "clinic-admin", PASSWORD, actor=Actor.cli("pytest"))
    code, _ = do_issue_activation_code(home.institution, actor=Actor.cli("pytest"))
    body = registration_body(other_institution, code, signing.generate_device_key())
    response = APIClient().post("/api/v1/devices/register", body, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "activation_code_invalid")
