"""S12, issue 15 point 5: the schema is the truth — schemathesis against the live server over every operation of
/api/schema/, positive and negative, with every check schemathesis has (status codes, content types, headers, body
schemas, negative data refused, positive data accepted, authentication enforced, unsupported methods), failing on
any of them, not only on a 5xx.

The operations are listed from the schema drf-spectacular generates in-process (one test per operation, so a new
endpoint is fuzzed without a change here); at run time the schema is loaded from the live server. Authentication
goes through a schemathesis auth provider: signed operations carry a marker in their ``Signature`` header that a
requests auth hook replaces by a real RFC 9421 signature of the request as sent (so that schemathesis's probes
without credentials, or with its own garbage, go out unsigned and must be refused); console operations carry a
manager's session cookie and CSRF token. ``SCHEMATHESIS_EXAMPLES`` sets the examples per operation and mode
(``make test``: a bounded run; ``make schemathesis``: a larger one), ``SCHEMATHESIS_STEPS`` the stateful run.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
from collections.abc import Iterator

import pytest
import requests
import schemathesis
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Flaky, Unsatisfiable
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import negated_parameters

from contracts import signing
from server.common.actor import Actor
from server.devices import ratelimit
from server.devices.actions import do_issue_activation_code
from server.institutions.actions import do_create_staff_user
from tests.server import factories
from tests.server.conftest import registration_body

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "12"))
STATEFUL_SCENARIOS = int(os.environ.get("SCHEMATHESIS_STEPS", "15"))
SIGN_ME = "sign-me"  # the Signature header's marker, replaced by a real signature at send time
CSRF = "c" * 32
PASSWORD = "Demo#Pass1"


def schema_operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (path, method.upper())
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    )


OPERATIONS = schema_operations()


class DeviceSignature(requests.auth.AuthBase):
    """Signs an outgoing request like the terminal does (RFC 9421, contracts/signing.py) — only one whose
    ``Signature`` header is the marker: a request schemathesis stripped of it, or gave garbage, goes out as is."""

    def __init__(self, key, key_id: str) -> None:
        self.key, self.key_id = key, key_id  # the stateful run switches them to a device it registers

    def __call__(self, prepared: requests.PreparedRequest) -> requests.PreparedRequest:
        if prepared.headers.get("Signature") != SIGN_ME:
            return prepared
        body = prepared.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        prepared.headers.update(signing.sign_request(prepared.method, prepared.url, {}, body, self.key, self.key_id))
        return prepared


# Refusals of well-formed data that no schema can foresee (credentials, activation codes, the period rule of T08,
# the sandbox's card checks): a positive case may get these statuses, never a malformed-request code (below).
BUSINESS_REFUSALS = {
    "devices_register": ["400", "401", "409", "410", "423", "429"],
    "accounts_login": ["401", "423"],
    "accounts_password": ["400", "401", "423"],
    "results_list": ["400"],
    "results_export_create": ["400"],
    "console_results_export_create": ["400"],
    "results_export_download": ["403", "409", "410"],
    "console_results_export_download": ["403", "409", "410"],
    "app_release_latest": ["400"],
    "sandbox_qualifications_create": ["400"],
    "sandbox_registrations_create": ["400"],
}
MALFORMED = {"validation_error", "malformed_request", "unsupported_media_type", "E-C-04-02-A-6301"}
# Beyond those, a positive case must never be refused as malformed — except for these fields, whose rule no schema
# keyword states: opaque cursors (only the server's own are valid; the stateful run follows them), a period's
# start after its end, the version grammar of PEP 440 and semver, and the sandbox's "a signature unless 目視".
UNSCHEMATIZABLE = {
    "results_list": {"cursor", "date_from"},
    "results_export_create": {"date_from"},
    "console_results_export_create": {"date_from"},
    "audit_events_list": {"cursor", "date_from"},
    "audit_events_export": {"date_from"},
    "app_release_latest": {"current"},
    "sandbox_qualifications_create": {"signature"},
    "sandbox_registrations_create": {"signature"},
}


def schemathesis_config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "operations": [
                {
                    "include-operation-id": operation_id,
                    "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "404", *statuses]}},
                }
                for operation_id, statuses in BUSINESS_REFUSALS.items()
            ]
        }
    )


def _refused_as_malformed(operation_id: str, response: requests.Response) -> str | None:
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return None
    if error["code"] not in MALFORMED:
        return None
    if set(error.get("fields") or {"": None}) <= UNSCHEMATIZABLE.get(operation_id, set()):
        return None
    return error["code"]


@pytest.fixture
def staff_session(live_server, institution) -> dict[str, str]:
    """A manager's console session (cookie) and a CSRF token for the console's API."""
    user = do_create_staff_user(institution, "manager", PASSWORD, "manager", actor=Actor.cli("pytest"))
    client = Client()
    client.force_login(user)
    return {"sessionid": client.cookies["sessionid"].value, "csrftoken": CSRF}


@pytest.fixture
def schema_and_session(
    live_server, terminal, staff_session
) -> Iterator[tuple[schemathesis.schemas.BaseSchema, requests.Session]]:
    """The live schema with the console's credentials, and the signing HTTP session. The session is closed after the
    test: a kept-alive connection would keep its live-server thread, and that thread's database connection, open
    until the test database is dropped."""
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json", config=schemathesis_config())

    @schema.auth(refresh_interval=None)
    class Credentials:
        def get(self, case, ctx):
            return staff_session

        def set(self, case, data, ctx):
            schemes = {
                name for requirement in case.operation.definition.raw.get("security", []) for name in requirement
            }
            # A negative case whose credentials are the negated part (dropped, or garbage) goes out as generated.
            negated = set(negated_parameters(case.meta))
            if "deviceSignature" in schemes and ("Signature", ParameterLocation.HEADER) not in negated:
                case.headers = {**(case.headers or {}), "Signature": SIGN_ME}
            elif "cookieAuth" in schemes and ("sessionid", ParameterLocation.COOKIE) not in negated:
                case.cookies = {**(case.cookies or {}), **data}
                case.headers = {**(case.headers or {}), "X-CSRFToken": CSRF}

    session = requests.Session()
    session.auth = DeviceSignature(terminal.key, terminal.device_id)
    # Keep no cookie from the answers (the console renews its session cookie on every request): each case sends
    # exactly the cookies it carries, so that one without the session is refused.
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    with session:
        yield schema, session


def test_every_operation_is_fuzzed():
    operation_ids = {
        operation["operationId"]
        for item in SchemaGenerator().get_schema(request=None, public=True)["paths"].values()
        for operation in item.values()
    }
    assert set(BUSINESS_REFUSALS) <= operation_ids
    assert len(OPERATIONS) >= 29
    assert {
        ("/api/v1/results/batch", "POST"),
        ("/api/v1/audit/events", "GET"),
        ("/sandbox/onshi/v1/qualifications", "POST"),
    } <= set(OPERATIONS)


@pytest.mark.e2e
@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_schemathesis_finds_no_failed_check(live_server, terminal, institution, schema_and_session, path, method):
    ratelimit.reset("register-institution", institution.code)
    schema, session = schema_and_session
    operation = schema[path][method]
    failures: list[str] = []

    def run(case: schemathesis.Case) -> None:
        if path == "/api/v1/devices/register" and isinstance(case.body, dict) and case.meta.generation.mode.is_positive:
            # Random strings almost never make a valid key or a known institution: aim some at the real ones so
            # that the run reaches the credential check and the lockout (401, 423), not only validation (400).
            case.body.update(
                institution_code=institution.code,
                account_id="clinic-admin",
                public_key=signing.public_key_b64(signing.generate_device_key()),
            )
        response = case.call(base_url=live_server.url, session=session)
        try:
            case.validate_response(response, transport_kwargs={"session": session, "base_url": live_server.url})
            refusal = _refused_as_malformed(operation.definition.raw["operationId"], response)
            if case.meta.generation.mode.is_positive and refusal:
                raise AssertionError(f"positive data refused as {refusal}: {response.text}")
        except (Exception, BaseExceptionGroup) as exc:  # failed checks: collect, to report every distinct problem
            failures.append(f"{case.method} {case.formatted_path} body={case.body!r:.300}: {exc}"[:2000])

    common = {
        "max_examples": MAX_EXAMPLES,
        "derandomize": True,
        "database": None,
        "deadline": None,
        "suppress_health_check": list(HealthCheck),
    }
    for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
        try:
            settings(**common)(given(case=operation.as_strategy(mode))(run))()
        except Unsatisfiable:  # nothing to negate (no parameters, no body, no credentials): ping
            assert mode is schemathesis.GenerationMode.NEGATIVE and not operation.definition.raw.get("security"), path
    assert not failures, "\n\n".join(sorted(set(failures))[:10])


@pytest.mark.e2e
def test_stateful_workflows_follow_the_links(live_server, terminal, institution, schema_and_session, settings):
    """The links of /api/schema/ drive schemathesis's state machine through the terminal's workflow (register →
    heartbeat → push → search → detail → export), the console's export and the sandbox's challenge → query, with the
    same checks. A registration gets a fresh activation code and its own key, and the calls after it are signed as
    that new terminal; a push sends real result documents (random ones would only test the per-item rejection)."""
    settings.REGISTRATION_ATTEMPTS_PER_IP_PER_HOUR = settings.REGISTRATION_ATTEMPTS_PER_INSTITUTION_PER_HOUR = 10**6
    schema, session = schema_and_session
    signer = session.auth
    failures: list[str] = []
    followed: set[str] = set()
    calls: list[str] = []

    class Workflows(schema.as_state_machine()):
        def before_call(self, case: schemathesis.Case) -> None:
            operation_id = case.operation.definition.raw["operationId"]
            if operation_id == "devices_register" and case.meta.generation.mode.is_positive:
                self.new_key = signing.generate_device_key()
                code, _ = do_issue_activation_code(institution, actor=Actor.cli("pytest"))
                case.body = registration_body(institution, code, self.new_key, device_name=f"端末{code[-4:]}")
            elif operation_id == "results_batch" and case.meta.generation.mode.is_positive:
                case.body = {"results": [factories.batch_item() for _ in range(2)]}

        def after_call(self, response, case: schemathesis.Case) -> None:
            operation_id = case.operation.definition.raw["operationId"]
            followed.add(operation_id)
            calls.append(operation_id)
            if operation_id == "devices_register" and response.status_code == 201:
                signer.key, signer.key_id = self.new_key, response.json()["device_id"]

        def get_call_kwargs(self, case: schemathesis.Case) -> dict:
            return {"session": session, "base_url": live_server.url}

        def validate_response(self, response, case: schemathesis.Case, additional_checks=None, **kwargs) -> None:
            try:
                case.validate_response(response, transport_kwargs=kwargs)
                refusal = _refused_as_malformed(case.operation.definition.raw["operationId"], response)
                if case.meta.generation.mode.is_positive and refusal:
                    raise AssertionError(f"positive data refused as {refusal}: {response.text}")
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{case.method} {case.formatted_path} body={case.body!r:.300}: {exc}"[:2000])

        def teardown(self) -> None:
            nonlocal completed
            completed += 1
            signer.key, signer.key_id = terminal_key, terminal_device_id  # the next scenario starts as the terminal

    # The server keeps its state between scenarios (devices registered, audit events, exports finishing on the
    # worker), so a scenario replayed by Hypothesis may take another path: Hypothesis calls that Flaky. As in
    # schemathesis's own stateful runner, such a run is started again until the scenarios are done (bounded).
    completed, attempts = 0, 0
    terminal_key, terminal_device_id = signer.key, signer.key_id
    while completed < STATEFUL_SCENARIOS and attempts < 3:
        attempts += 1
        try:
            Workflows.run(settings=settings_for_stateful(STATEFUL_SCENARIOS - completed))
        except Flaky:
            continue
    assert completed >= STATEFUL_SCENARIOS, f"only {completed} scenarios in {attempts} runs"
    assert not failures, "\n\n".join(sorted(set(failures))[:10])
    print(f"stateful run: {len(calls)} calls, operations {sorted(followed)}")
    assert {"devices_register", "devices_me_heartbeat", "results_batch", "results_list", "results_detail"} <= followed


def settings_for_stateful(scenarios: int) -> settings:
    return settings(
        max_examples=scenarios,
        stateful_step_count=8,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


def _documented_codes(schema: dict, path: str) -> dict[str, set[str]]:
    """status → error codes listed in the response descriptions of every operation of ``path``."""
    codes: dict[str, set[str]] = {}
    for operation in schema["paths"][path].values():
        for status, response in operation.get("responses", {}).items():
            codes.setdefault(status, set()).update(re.findall(r"`([a-z_]+)`", response.get("description", "")))
    return codes


SIGNED = {
    "401": {
        "signature_required",
        "unknown_device",
        "bad_signature",
        "clock_skew",
        "replayed_request",
        "bad_content_digest",
    },
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
        **SIGNED,
        **BODY,
        "401": SIGNED["401"] | {"invalid_credentials"},
        "413": {"payload_too_large"},
        "423": {"account_locked"},
    },
    "/api/v1/accounts/password": {
        **SIGNED,
        **BODY,
        "401": SIGNED["401"] | {"invalid_credentials"},
        "413": {"payload_too_large"},
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
