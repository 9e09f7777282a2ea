"""A stub of the core for screen tests and the screen gallery: every call of ``terminal_agent.ui.gateway.CoreCalls``
with canned answers, no server, no card reader, no disk. The flows are the real ``CheckFlow`` state machines over a
stub check service, so the screens walk the manual's steps exactly as with the live core.

    core = StubCore(start="login", outcomes=[BASIC, CheckFailure(FailureKind.PIN_LOCKED, MSG_PIN_LOCKED)])
    window = build_main_window(core)
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from terminal_agent.core import passcode
from terminal_agent.core.account import MSG_INPUT, MSG_WRONG_LOGIN, AccountFailure, SignedIn, password_change_errors
from terminal_agent.core.app import Registration, RegistrationFailed, StartupPlan, TerminalStatus, Versions
from terminal_agent.core.check_flow import CardProof, CheckFailure, CheckFlow, CheckOutcome, Method
from terminal_agent.core.documents import LABELS, Document
from terminal_agent.core.insurance import InsuranceRegistration
from terminal_agent.core.notices import Notice, NoticeList
from terminal_agent.core.registration import RegistrationForm, validate
from terminal_agent.core.release import ReleaseInfo
from terminal_agent.core.search import SearchCriteria, SearchPage, SearchRow
from tests.terminal.sample_documents import BASIC

PASSCODE = "2580"
CHECKED_AT = "2026-11-27T01:23:00+00:00"  # fixed, so that renderings do not depend on the clock


@dataclass
class StubCheckService:
    """``CheckService.perform`` answering from a queue: a document (the check succeeds) or a ``CheckFailure``."""

    outcomes: deque = field(default_factory=deque)
    performed: list[tuple[Method, str | None, bool]] = field(default_factory=list)

    def perform(self, method: Method, *, pin: str | None, consent_specific_diseases: bool) -> CheckOutcome:
        self.performed.append((method, pin, consent_specific_diseases))
        answer = self.outcomes.popleft() if self.outcomes else BASIC
        if isinstance(answer, CheckFailure):
            raise answer
        document = {**answer, "identity_verification": method.value}
        return CheckOutcome(str(uuid.uuid5(uuid.NAMESPACE_URL, f"stub:{len(self.performed)}")), CHECKED_AT, document, True)


class StubRegistrationApi:
    """The sandbox's 健康保険証利用登録 calls, answering ``status`` at once."""

    def __init__(self, status: str = "completed") -> None:
        self.status = status

    def registration_terms(self) -> dict[str, str]:
        return {"version": "1.0", "title": "健康保険証利用登録 利用規約", "body": "利用登録の規約です。"}

    def request_registration(self, body: dict[str, Any]) -> dict[str, str]:
        return {"registration_id": "00000000-0000-4000-8000-000000000001", "status": self.status}

    def registration(self, registration_id: str) -> dict[str, str]:
        return {"registration_id": registration_id, "status": self.status}


@dataclass
class StubInsuranceService:
    """``CheckService`` as ``InsuranceRegistration`` uses it: the card's proof and the sandbox's answers."""

    api: StubRegistrationApi = field(default_factory=StubRegistrationApi)

    def prove(self, method: Method, pin: str | None) -> CardProof:
        return CardProof("Y2hhbGxlbmdl", b"certificate", None if method is Method.VISUAL else b"signature")

    def failure_of(self, failure: Any, method: Method | None = None) -> CheckFailure:
        from terminal_agent.core.check_flow import api_failure

        return api_failure(failure, method)


class StubReaderWatch:
    def stop(self) -> None:
        pass


def search_row(index: int, document: dict[str, Any], valid: bool = True, device: str = "受付1") -> SearchRow:
    """A row as D-10-W lists it, at a fixed time."""
    checked = dt.datetime(2026, 11, 27, 9, 0) - dt.timedelta(minutes=17 * index)
    return SearchRow(
        id=f"00000000-0000-4000-8000-{index:012d}",
        checked_at=checked.strftime("%Y年%m月%d日 %H時%M分"),
        name=document["result_of_qualification_confirmation"]["name"],
        validity="資格有効" if valid else "資格無効",
        device_name=device,
    )


class StubCore:
    """Every ``CoreCalls`` call, answered at once. ``calls`` records what the screens asked, in order."""

    def __init__(
        self,
        *,
        start: str = "login",
        visual_check: bool = False,
        readers: tuple[str, ...] = ("ACS ACR1252 1S CL Reader PICC 0",),
        outcomes: list[dict[str, Any] | CheckFailure] | None = None,
        pages: list[SearchPage] | None = None,
        documents: dict[str, dict[str, Any]] | None = None,
        registration_error: RegistrationFailed | None = None,
        pending: int = 0,
        online: bool | None = True,
        notices: list[Notice] | None = None,
        release: ReleaseInfo | None = None,
        terms_version: str = "1.0",
        registration_status: str = "completed",
    ) -> None:
        self.start = start
        self.visual = visual_check
        self.readers = list(readers)
        self.reader: str | None = None
        self.service = StubCheckService(deque(outcomes or []))
        self.pages = list(pages or [SearchPage([])])
        self.documents = documents or {}
        self.registration_error = registration_error
        self.pending = pending
        self.online = online
        self.notices = list(notices or [])
        self.release = release
        self.terms_version = terms_version
        self.accepted_version = terms_version if start != "terms" else ""
        self.insurance_service = StubInsuranceService(StubRegistrationApi(registration_status))
        self.password = "Demo#Pass1"
        self.logged_out = start == "system_login"
        self.listeners: list[Any] = []
        self.passcode_hash = passcode.hash_passcode(PASSCODE) if start in ("login", "system_login") else ""
        self.calls: list[str] = []

    # start, T01–T03, T14
    def start_screen(self) -> str:
        return self.start

    def is_registered(self) -> bool:
        return self.start != "terms"

    def document(self, kind: str) -> Document:
        self.calls.append(f"document:{kind}")
        version = self.terms_version if kind == "terms" else "1.0"
        return Document(kind, version, LABELS[kind], f"{LABELS[kind]}の本文です。")

    def accept_terms(self, version: str | None = None) -> None:
        self.calls.append("accept_terms")
        self.accepted_version = version or self.terms_version

    def startup(self) -> StartupPlan:
        self.calls.append("startup")
        terms = self.document("terms") if self.accepted_version != self.terms_version else None
        return StartupPlan(terms, self.release, [n for n in self.notices if not n.read])

    def all_notices(self) -> NoticeList:
        return NoticeList(list(self.notices), sum(not n.read for n in self.notices))

    def mark_notice_read(self, notice_id: int) -> None:
        self.calls.append(f"mark_notice_read:{notice_id}")
        self.notices = [Notice(n.id, n.title, n.body, n.url, n.published, n.read or n.id == notice_id) for n in self.notices]

    def validate_registration(self, form: RegistrationForm) -> dict[str, list[str]]:
        return validate(form)

    def register(self, form: RegistrationForm) -> Registration:
        self.calls.append("register")
        if self.registration_error is not None:
            raise self.registration_error
        self.start = "passcode_setup"
        return Registration("3f0c2b8e-6a55-4d0e-9c1e-5b7a0f1d2c3e", form.institution_code, "しかく整骨院", "stub://")

    def set_passcode(self, first: str, confirmation: str) -> None:
        self.passcode_hash = passcode.new_passcode_hash(first, confirmation)
        self.start = "login"

    def login(self, code: str) -> bool:
        self.calls.append("login")
        return self.verify_passcode(code)

    def verify_passcode(self, code: str) -> bool:
        return bool(self.passcode_hash) and passcode.verify_passcode(code, self.passcode_hash)

    def change_passcode(self, current: str, new: str, confirmation: str) -> None:
        if not self.verify_passcode(current):
            raise passcode.PasscodeError(passcode.MSG_WRONG)
        self.set_passcode(new, confirmation)

    # the app account (T09, T13)
    @property
    def account_id(self) -> str:
        return "clinic-admin"

    def change_account_password(self, current: str, new: str, confirmation: str, account_id: str = "") -> None:
        errors = password_change_errors(current, new, confirmation)
        if errors:
            raise AccountFailure(MSG_INPUT, errors)
        self.password = new

    def logout(self) -> None:
        self.logged_out = True
        self.start = "system_login"

    def system_login(self, account_id: str, password: str) -> SignedIn:
        if password != self.password:
            raise AccountFailure(MSG_WRONG_LOGIN, {"password": [MSG_WRONG_LOGIN]}, "invalid_credentials")
        self.logged_out = False
        self.start = "login"
        return SignedIn(account_id, "しかく整骨院")

    # settings
    @property
    def visual_check_enabled(self) -> bool:
        return self.visual

    def set_visual_check(self, enabled: bool) -> None:
        self.visual = enabled

    def method_choices(self) -> list[Method]:
        return [Method.VISUAL if self.visual else Method.PIN, Method.IPHONE, Method.ANDROID]

    def list_readers(self) -> list[str]:
        return list(self.readers)

    @property
    def selected_reader(self) -> str | None:
        return self.reader

    def select_reader(self, name: str) -> None:
        self.reader = name

    def watch_readers(self, on_change: Any) -> StubReaderWatch:
        on_change(list(self.readers))
        return StubReaderWatch()

    # checks
    def start_check(self, method: Method | str, *, consent_specific_diseases: bool = False) -> CheckFlow:
        self.calls.append(f"start_check:{Method(method).value}")
        return CheckFlow(Method(method), self.service, consent_specific_diseases=consent_specific_diseases)  # type: ignore[arg-type]

    def start_insurance_registration(self, method: Method | str) -> InsuranceRegistration:
        self.calls.append(f"start_insurance_registration:{Method(method).value}")
        return InsuranceRegistration(Method(method), self.insurance_service, poll=0.0)  # type: ignore[arg-type]

    # search, deregistration, sync
    def search_results(self, criteria: SearchCriteria | None = None) -> SearchPage:
        self.calls.append("search_results")
        (criteria or SearchCriteria.default()).validate()
        return self.pages[0]

    def search_page(self, which: str) -> SearchPage:
        self.calls.append(f"search_page:{which}")
        order = ["first", "previous", "next", "last"]
        return self.pages[min(len(self.pages) - 1, 1)] if order.index(which) >= 2 else self.pages[0]

    def result_document(self, result_id: str) -> dict[str, Any]:
        self.calls.append(f"result_document:{result_id}")
        return self.documents.get(result_id, BASIC)

    def deregister(self) -> None:
        self.calls.append("deregister")
        self.start = "terms"

    def pending_results(self) -> int:
        return self.pending

    def versions(self) -> Versions:
        self.calls.append("versions")
        return Versions(app="0.1.0", server="" if not self.online else "0.1.0")

    def status(self) -> TerminalStatus:
        return TerminalStatus(self.online, self.pending if self.is_registered() else None)

    def add_status_listener(self, listener: Any) -> None:
        self.listeners.append(listener)

    def remove_status_listener(self, listener: Any) -> None:
        if listener in self.listeners:
            self.listeners.remove(listener)

    def set_status(self, online: bool | None, pending: int) -> None:
        """What the live core's threads report (the connectivity probe, the relay)."""
        self.online, self.pending = online, pending
        for listener in list(self.listeners):
            listener(self.status())

    def start_background(self, sync_interval: float = 30.0) -> None:
        self.calls.append("start_background")

    def preload(self) -> None:
        self.calls.append("preload")
