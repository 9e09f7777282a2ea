"""No 500 from input, ever (issue 15 point 3): every field of every operation in /api/schema/ — path and query
parameters, body properties down to the items of the result batch and the leaves of a result document — is fed
arbitrary strings and JSON values by hypothesis, one field at a time on an otherwise valid request, so that each
field's own parser (dates, UUIDs, numbers, base64, cursors, enums…) is reached. Every answer is a success or the
error envelope; never a 5xx.

The operations come from the schema drf-spectacular generates: a new endpoint or field is fuzzed without a change
here (a new operation only needs a valid base request below, or the coverage test fails)."""

from __future__ import annotations

import base64
import datetime
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from contracts import signing
from server.common.actor import Actor
from server.devices.actions import do_issue_activation_code
from server.institutions.actions import do_create_staff_user
from server.notices.actions import do_publish_notice
from server.results.queries import ResultQuery, encode_cursor
from tests.server import factories
from tests.server.conftest import PASSWORD, Terminal, registration_body

pytestmark = pytest.mark.django_db

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)

# Values that broke or could break a parser: impossible dates and times (minute 60, year 1 and 9999 with an offset
# that overflows), NUL (PostgreSQL refuses it in text), lone surrogates (not UTF-8), numbers past every range,
# Infinity/NaN, base64 and cursor shapes, very long text.
TRICKY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "2026-11-27T10:60:00+09:00",
    "2026-11-27T24:00:00+09:00",
    "2026-02-30T10:00:00+09:00",
    "2026-02-30",
    "0001-01-01T00:00:00+09:00",
    "0001-01-01",
    "9999-12-31T23:59:59-12:00",
    "9999-12-31",
    "2026-11-27T10:00:00",
    "2026-11-27T10:00:00+24:00",
    "Infinity",
    "-Infinity",
    "NaN",
    "1e309",
    "-1",
    "0",
    "99999999999999999999999999",
    "-99999999999999999999999999",
    "00000000-0000-0000-0000-000000000000",
    "not-a-uuid",
    "====",
    "A",
    "eyJrIjoiYWZ0ZXIiLCJzIjoiZGV2aWNlIiwiZiI6IjIwMjYtMTEtMDEiLCJ0IjoiMjAyNi0xMS0yNyIsIm4iOjF9",
    "%00",
    "../../etc/passwd",
    "ｼｶｸ",
    "資格 太郎",
    "x" * 5000,
]
# Every JSON type where a body field expects another.
TRICKY_JSON = [None, True, False, 0, -1, 2**64, -(2**64), 1.5, 1e308, [], {}, ["x"], {"a": 1}, [None]]
text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(exclude_categories=()), max_size=20),  # surrogates and controls included
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)
fuzz = settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


# --- the operations and their fields ----------------------------------------------------------------------------


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = SCHEMA["components"]["schemas"][name]
    return schema


def _body_fields(schema: dict[str, Any], prefix: tuple = (), depth: int = 0) -> Iterator[tuple]:
    """Paths of every property (and of the first item of every array) of a request body schema."""
    schema = _resolve(schema)
    if depth > 4:
        return
    if schema.get("type") == "array" and "items" in schema:
        yield (*prefix, 0)
        yield from _body_fields(schema["items"], (*prefix, 0), depth + 1)
    for name, sub in schema.get("properties", {}).items():
        if _resolve(sub).get("readOnly"):
            continue
        yield (*prefix, name)
        yield from _body_fields(sub, (*prefix, name), depth + 1)


def _document_leaves(value: Any, prefix: tuple) -> Iterator[tuple]:
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from _document_leaves(sub, (*prefix, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value[:1]):
            yield from _document_leaves(sub, (*prefix, index))
    else:
        yield prefix


@dataclass(frozen=True)
class Field:
    operation: str
    location: str  # path | query | body
    name: str | tuple


def schema_fields() -> list[Field]:
    fields: list[Field] = []
    for item in SCHEMA["paths"].values():
        for operation in item.values():
            op_id = operation["operationId"]
            for parameter in operation.get("parameters", []):
                fields.append(Field(op_id, parameter["in"], parameter["name"]))
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                fields.append(Field(op_id, "body", ()))  # the body itself: any JSON value
                fields.extend(Field(op_id, "body", path) for path in _body_fields(body["schema"]))
    # The result document of a batch item is one JSON field to the schema; each of its leaves is a parser too.
    document = factories.result_document()
    fields.extend(
        Field("results_batch", "body", ("results", 0, "result", *leaf)) for leaf in _document_leaves(document, ())
    )
    return fields


FIELDS = schema_fields()
OPERATIONS = {
    op["operationId"]: (path, method.upper()) for path, item in SCHEMA["paths"].items() for method, op in item.items()
}


# --- a valid request per operation, then one field replaced ------------------------------------------------------


@dataclass
class World:
    terminal: Terminal
    staff: APIClient
    institution: Any
    result_id: str
    export_id: str
    console_export_id: str
    notice_id: int
    challenge: str
    extra: dict = field(default_factory=dict)


@dataclass
class Request:
    auth: str  # signed | session | none
    path_params: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


BASE: dict[str, Callable[[World], Request]] = {
    "accounts_login": lambda w: Request("signed", body={"account_id": "clinic-admin", "password": PASSWORD}),
    "accounts_password": lambda w: Request(
        "signed", body={"account_id": "clinic-admin", "current_password": "wrong", "new_password": "Demo#Pass2"}
    ),
    "app_release_latest": lambda w: Request("signed", query={"current": "0.1.0"}),
    "audit_events_list": lambda w: Request(
        "session", query={"actor_type": "device", "page_size": "10", "date_from": "2026-01-01", "patient": "シカク"}
    ),
    "audit_events_export": lambda w: Request("session", query={"actor_type": "device", "date_from": "2026-01-01"}),
    "console_results_export_create": lambda w: Request(
        "session", body={"date_from": "2026-01-01", "date_to": "2026-12-31"}
    ),
    "console_results_export_status": lambda w: Request("session", path_params={"export_id": w.console_export_id}),
    "console_results_export_download": lambda w: Request(
        "session", path_params={"export_id": w.console_export_id}, query={"token": "x"}
    ),
    "devices_me": lambda w: Request("signed"),
    "devices_me_deregister": lambda w: Request("signed", body={}),
    "devices_me_heartbeat": lambda w: Request("signed", body={"app_version": "0.1.0", "reader_name": "Virtual PCD"}),
    "devices_register": lambda w: Request(
        "none",
        body=registration_body(
            w.institution, do_issue_activation_code(w.institution, actor=Actor.cli("pytest"))[0], signing.generate_device_key()
        ),
    ),
    "documents_current": lambda w: Request("signed", path_params={"kind": "terms"}),
    "notices_list": lambda w: Request("signed", query={"unread": "1"}),
    "notices_detail": lambda w: Request("signed", path_params={"notice_id": str(w.notice_id)}),
    "notices_read": lambda w: Request("signed", path_params={"notice_id": str(w.notice_id)}),
    "ping": lambda w: Request("none"),
    "server_version": lambda w: Request("none"),
    "results_list": lambda w: Request("signed", query={"scope": "institution", "page_size": "8"}),
    "results_detail": lambda w: Request("signed", path_params={"result_id": w.result_id}, query={"format": "json"}),
    "results_batch": lambda w: Request("signed", body={"results": [factories.batch_item()]}),
    "results_export_create": lambda w: Request("signed", body={"scope": "device"}),
    "results_export_status": lambda w: Request("signed", path_params={"export_id": w.export_id}),
    "results_export_download": lambda w: Request(
        "signed", path_params={"export_id": w.export_id}, query={"token": "x"}
    ),
    "sandbox_challenges_create": lambda w: Request("signed", body={}),
    "sandbox_qualifications_create": lambda w: Request(
        "signed",
        body={
            "challenge": w.challenge,
            "identity_verification": "pin",
            "certificate": _b64(b"\x30\x82\x01\x00" * 8),
            "signature": _b64(b"\x00" * 256),
            "visual_attested": False,
            "consent_specific_diseases": False,
        },
    ),
    "sandbox_registrations_create": lambda w: Request(
        "signed",
        body={
            "challenge": w.challenge,
            "identity_verification": "pin",
            "certificate": _b64(b"\x30\x82\x01\x00" * 8),
            "signature": _b64(b"\x00" * 256),
            "terms_accepted": True,
        },
    ),
    "sandbox_registrations_retrieve": lambda w: Request("signed", path_params={"registration_id": str(uuid.uuid4())}),
    "sandbox_registrations_terms": lambda w: Request("signed"),
}


def test_every_operation_has_a_base_request_and_fields():
    assert set(BASE) == set(OPERATIONS), set(OPERATIONS) ^ set(BASE)
    assert len(OPERATIONS) >= 27
    fuzzed = {f.operation for f in FIELDS}
    # Operations without any parameter or body: nothing of the client's to parse.
    assert set(OPERATIONS) - fuzzed <= {
        "devices_me",
        "devices_me_deregister",
        "ping",
        "sandbox_challenges_create",
        "sandbox_registrations_terms",
        "server_version",
    }
    assert Field("results_batch", "body", ("results", 0, "checked_at")) in FIELDS
    assert (
        Field("results_batch", "body", ("results", 0, "result", "result_of_qualification_confirmation", "birthdate"))
        in FIELDS
    )


def _replace(body: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(body, dict):
        return {**body, head: _replace(body.get(head), rest, value)}
    if isinstance(body, list) and isinstance(head, int):
        items = list(body) or [None]
        items[0] = _replace(items[0], rest, value)
        return items
    return {head: _replace(None, rest, value)} if isinstance(head, str) else [_replace(None, rest, value)]


def _query_string(query: dict[str, Any]) -> str:
    # Lone surrogates cannot be UTF-8: they go out as the bytes a careless client would send.
    return "&".join(
        f"{quote(str(k))}={quote(str(v).encode('utf-8', 'surrogatepass'), safe='')}" for k, v in query.items()
    )


def send(world: World, operation: str, request: Request) -> Any:
    path, method = OPERATIONS[operation]
    for name, value in request.path_params.items():
        path = path.replace("{" + name + "}", quote(str(value).encode("utf-8", "surrogatepass"), safe=""))
    query = _query_string(request.query)
    full = path + (f"?{query}" if query else "")
    raw = b"" if request.body is None else json.dumps(request.body, ensure_ascii=True).encode()
    if request.auth == "signed":
        headers = signing.sign_request(
            method, f"http://testserver{full}", {}, raw, world.terminal.key, world.terminal.device_id
        )
        return world.terminal.client.generic(method, full, data=raw, content_type="application/json", headers=headers)
    client = world.staff if request.auth == "session" else APIClient()
    return client.generic(method, full, data=raw, content_type="application/json")


def assert_handled(response: Any, label: str) -> None:
    assert response.status_code < 500, (label, response.status_code, response.content[:500])
    if response.status_code >= 400:
        body = response.json()
        assert body["error"]["code"] and body["error"]["message"], (label, body)


@pytest.fixture
def world(terminal, institution, settings) -> World:
    settings.REGISTRATION_ATTEMPTS_PER_IP_PER_HOUR = 10**9
    settings.REGISTRATION_ATTEMPTS_PER_INSTITUTION_PER_HOUR = 10**9
    do_create_staff_user(institution, "manager", PASSWORD, "manager", actor=Actor.cli("pytest"))
    staff = APIClient()
    assert staff.login(username="manager", password=PASSWORD)
    item = factories.batch_item(name="資格 太郎", name_kana="シカク タロウ")
    assert terminal.call("POST", "/api/v1/results/batch", {"results": [item]}).status_code == 200
    export = terminal.call("POST", "/api/v1/results/exports", {"scope": "device"})
    console_export = staff.post(
        "/api/v1/console/results/exports", {"date_from": "2026-01-01", "date_to": "2026-12-31"}, format="json"
    )
    notice = do_publish_notice(title="お知らせ", body="本文", institution=institution, actor=Actor.cli("pytest"))
    challenge = terminal.call("POST", "/sandbox/onshi/v1/challenges", {}).json()["challenge"]
    return World(
        terminal,
        staff,
        institution,
        item["id"],
        export.json()["export_id"],
        console_export.json()["export_id"],
        notice.pk,
        challenge,
    )


@pytest.mark.parametrize("target", FIELDS, ids=[f"{f.operation}:{f.location}:{f.name}" for f in FIELDS])
def test_a_field_fed_anything_answers_the_envelope_never_a_5xx(world, target: Field):
    """Each tricky value first, then hypothesis's own."""
    body = target.location == "body"

    def attempt(value: Any) -> None:
        request = BASE[target.operation](world)
        if target.location == "path":
            request.path_params[target.name] = value
        elif target.location == "query":
            request.query[target.name] = value
        else:
            request.body = _replace(request.body, target.name, value)
        response = send(world, target.operation, request)
        assert_handled(response, f"{target} = {value!r:.200}")

    for value in TRICKY + (TRICKY_JSON if body else []):
        attempt(value)
    given(value=st.one_of(text, json_values) if body else text)(fuzz(attempt))()


def test_the_batch_answers_an_impossible_checked_at_per_item(world):
    """The minute-60 time of the report: the item is rejected with invalid_checked_at, the batch answers 200."""
    item = factories.batch_item()
    for checked_at in ("2026-11-27T10:60:00+09:00", "0001-01-01T00:00:00+09:00", "9999-12-31T23:59:59-12:00"):
        response = world.terminal.call(
            "POST", "/api/v1/results/batch", {"results": [{**item, "checked_at": checked_at}]}
        )
        assert response.status_code == 200, response.content
        assert response.json()["items"][0]["error"]["code"] == "invalid_checked_at"


def test_a_cursor_with_an_infinite_page_size_is_a_400(world):
    query = ResultQuery("device", datetime.date(2026, 11, 1), datetime.date(2026, 11, 27), 8)
    payload = json.loads(base64.urlsafe_b64decode(encode_cursor(query, "first") + "=="))
    raw = json.dumps(payload).replace('"n": 8', '"n": Infinity').encode()
    cursor = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    response = world.terminal.call("GET", "/api/v1/results", params={"cursor": cursor})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
