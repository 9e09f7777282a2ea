"""S12: schemathesis against the live server — registration, account and device endpoints, signed calls.

The operations are listed from the schema drf-spectacular generates in-process (one test per operation, so a new
endpoint under these prefixes is fuzzed without a change here); at run time the schema is loaded from the live
server's /api/schema/. Each operation gets a bounded, derandomized run of positive and negative examples. Every
call is signed with a registered terminal's key by a requests auth hook. Checks: no 5xx, a documented status code,
a documented content type, and a body that conforms to the documented schema.
"""

from __future__ import annotations

import re

import pytest
import requests
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from contracts import signing
from server.devices import ratelimit

FUZZED_PATHS = re.compile(r"^/api/v1/(devices/|accounts/|ping$)")
MAX_EXAMPLES = 25


def fuzzed_operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (path, method.upper())
        for path, item in schema["paths"].items()
        if FUZZED_PATHS.match(path)
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    )


OPERATIONS = fuzzed_operations()


class DeviceSignature(requests.auth.AuthBase):
    """Signs every outgoing request like the terminal does (RFC 9421, contracts/signing.py)."""

    def __init__(self, key, key_id: str) -> None:
        self.key, self.key_id = key, key_id

    def __call__(self, prepared: requests.PreparedRequest) -> requests.PreparedRequest:
        body = prepared.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        prepared.headers.update(signing.sign_request(prepared.method, prepared.url, {}, body, self.key, self.key_id))
        return prepared


def test_the_fuzzed_operations_cover_registration_accounts_and_devices():
    assert {
        ("/api/v1/devices/register", "POST"),
        ("/api/v1/devices/me", "GET"),
        ("/api/v1/devices/me/heartbeat", "POST"),
        ("/api/v1/devices/me/deregister", "POST"),
        ("/api/v1/accounts/login", "POST"),
        ("/api/v1/accounts/password", "POST"),
        ("/api/v1/ping", "GET"),
    } <= set(OPERATIONS)


@pytest.mark.e2e
@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_schemathesis_finds_no_server_error_and_no_schema_violation(live_server, terminal, institution, path, method):
    ratelimit.reset("register-institution", institution.code)
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json")
    operation = schema[path][method]
    signed, unsigned = requests.Session(), requests.Session()
    signed.auth = DeviceSignature(terminal.key, terminal.device_id)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    failures: list[str] = []

    def run(case: schemathesis.Case, extra_checks: list) -> None:
        if path == "/api/v1/devices/register" and not extra_checks and isinstance(case.body, dict):
            # Random strings almost never make a valid key or a known institution: aim some at the real ones so
            # that the run reaches the credential check and the lockout (401, 423), not only validation (400).
            case.body.update(
                institution_code=institution.code,
                account_id="clinic-admin",
                public_key=signing.public_key_b64(signing.generate_device_key()),
            )
        # The schema documents the signature as a required "Signature" header (apiKey). Schemathesis fills it with
        # a placeholder that the auth hook replaces by a real signature; a negative case that drops it is sent
        # unsigned, and must then be refused.
        session = signed if "Signature" in (case.headers or {}) else unsigned
        response = case.call(base_url=live_server.url, session=session)
        try:
            case.validate_response(response, checks=checks + extra_checks)
        except Exception as exc:  # a failed check: collect, so that one run reports every distinct problem
            failures.append(f"{case.method} {case.formatted_path} body={case.body!r}: {exc}"[:1500])

    common = {
        "max_examples": MAX_EXAMPLES,
        "derandomize": True,
        "database": None,
        "deadline": None,
        "suppress_health_check": list(HealthCheck),
    }

    @settings(**common)
    @given(case=operation.as_strategy(schemathesis.GenerationMode.POSITIVE))
    def positive(case: schemathesis.Case) -> None:
        run(case, [])

    @settings(**common)
    @given(case=operation.as_strategy(schemathesis.GenerationMode.NEGATIVE))
    def negative(case: schemathesis.Case) -> None:
        run(case, [negative_data_rejection])

    positive()
    try:
        negative()
    except Unsatisfiable:  # nothing to negate (no parameters, no body, no signature): ping
        assert not {"parameters", "requestBody"} & set(operation.definition.raw), path
    assert not failures, "\n\n".join(sorted(set(failures))[:10])


def _documented_codes(schema: dict, path: str) -> dict[str, set[str]]:
    """status → error codes listed in the response descriptions of every operation of ``path``."""
    codes: dict[str, set[str]] = {}
    for operation in schema["paths"][path].values():
        for status, response in operation.get("responses", {}).items():
            codes.setdefault(status, set()).update(re.findall(r"`([a-z_]+)`", response.get("description", "")))
    return codes


SIGNED = {
    "401": {"signature_required", "unknown_device", "bad_signature", "clock_skew", "replayed_request",
            "bad_content_digest"},
    "403": {"device_retired", "device_deregistered"},
}
BODY = {"400": {"validation_error", "malformed_request"}, "415": {"unsupported_media_type"}}
EXPECTED_ERRORS: dict[str, dict[str, set[str]]] = {
    "/api/v1/devices/register": {
        **BODY,
        "400": BODY["400"] | {"activation_code_invalid"},
        "401": {"invalid_credentials"},
        "409": {"activation_code_used"},
        "410": {"activation_code_expired", "activation_code_revoked"},
        "423": {"account_locked"},
        "429": {"rate_limited"},
    },
    "/api/v1/devices/me": SIGNED,
    "/api/v1/devices/me/deregister": {**SIGNED, "413": {"payload_too_large"}},
    "/api/v1/devices/me/heartbeat": {**SIGNED, **BODY, "413": {"payload_too_large"}},
    "/api/v1/accounts/login": {
        **SIGNED, **BODY, "401": SIGNED["401"] | {"invalid_credentials"}, "413": {"payload_too_large"},
        "423": {"account_locked"},
    },
    "/api/v1/accounts/password": {
        **SIGNED, **BODY, "401": SIGNED["401"] | {"invalid_credentials"}, "413": {"payload_too_large"},
        "423": {"account_locked"},
    },
}


@pytest.mark.parametrize("path", sorted(EXPECTED_ERRORS))
def test_every_error_code_is_documented(path):
    documented = _documented_codes(SchemaGenerator().get_schema(request=None, public=True), path)
    for status, codes in EXPECTED_ERRORS[path].items():
        assert codes <= documented.get(status, set()), (path, status, codes - documented.get(status, set()))


def test_every_error_code_raised_by_these_apps_is_in_the_schema():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "server"
    raised = set()
    for app in ("devices", "institutions"):
        for source in (root / app).rglob("*.py"):
            raised |= set(re.findall(r'ApiError\(\s*"([a-z_]+)"', source.read_text(encoding="utf-8")))
    raised |= {code for codes in SIGNED.values() for code in codes} | {"rate_limited", "payload_too_large"}
    schema = SchemaGenerator().get_schema(request=None, public=True)
    documented = {c for path in EXPECTED_ERRORS for codes in _documented_codes(schema, path).values() for c in codes}
    assert raised >= {"activation_code_invalid", "account_locked", "device_retired"}  # the scan found the code
    assert raised <= documented, raised - documented
