"""``TerminalCore``: the one facade the screens call. No Qt; every method is a plain (possibly blocking) call.

Typical use (the UI gateway runs the blocking ones off the UI thread)::

    core = TerminalCore("http://clinic:8000", readers=InProcessReaderProvider(virtual_card))
    core.start_screen()                    # "terms" | "passcode_setup" | "system_login" | "login"
    core.document("terms"); core.accept_terms(version)   # T01 (the server's version, cached for offline)
    core.register(RegistrationForm(...))   # T02, raises RegistrationFailed
    core.set_passcode("1111", "1111")      # T03
    core.login("1111")                     # T14
    flow = core.start_check(Method.PIN, consent_specific_diseases=False)
    flow.confirm(); flow.enter_pin("1234"); outcome = flow.read(); flow.next()
    core.result_view(outcome.document)     # T21 sections
    core.startup()                         # after login: 利用規約 to accept again, バージョン更新, unread お知らせ
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from terminal_agent.core import formatting, passcode
from terminal_agent.core.account import Account, SignedIn
from terminal_agent.core.api_client import ApiClient, ApiFailure
from terminal_agent.core.check_flow import MSG_OFFLINE_CHECK, CheckFailure, CheckFlow, CheckService, FailureKind, Method
from terminal_agent.core.connectivity import OFFLINE_INTERVAL, ONLINE_INTERVAL, Connectivity
from terminal_agent.core.documents import TERMS, Document, Documents
from terminal_agent.core.insurance import InsuranceRegistration
from terminal_agent.core.notices import Notice, NoticeList, Notices
from terminal_agent.core.readers import PcscReaderProvider, ReaderProvider, ReaderWatch
from terminal_agent.core.registration import RegistrationForm, installed_version, registration_payload, validate
from terminal_agent.core.release import MSG_REQUIRED, ReleaseInfo, Releases
from terminal_agent.core.search import ResultSearch, SearchCriteria, SearchPage, window_start_utc
from terminal_agent.core.store import LocalStore
from terminal_agent.core.sync import SyncRelay, SyncReport

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

DEVICE_KEY_SECRET = "device.private_key"
MSG_DEREGISTERED = "この端末の登録は解除されています。初期登録を行ってください。"
MSG_NO_SERVER = "サーバーのURLが設定されていません。"


class RegistrationFailed(Exception):
    """T02 errors: ``fields`` for the inputs, ``message`` for the dialog."""

    def __init__(
        self,
        message: str,
        fields: dict[str, list[str]] | None = None,
        code: str = "validation_error",
        request_id: str = "",
    ):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.code = code
        self.request_id = request_id  # the server call's X-Request-Id, for support (ApiFailure.request_id)


@dataclass(frozen=True)
class Versions:
    """What ⚙ → ライセンス shows: this app's version and the clinic server's (empty when it cannot be asked)."""

    app: str
    server: str


@dataclass
class Registration:
    device_id: str
    institution_code: str
    institution_name: str
    server_url: str


@dataclass(frozen=True)
class TerminalStatus:
    """The status strip (T30): reachability of the server (None until known) and results waiting to be sent
    (None before registration)."""

    online: bool | None
    pending: int | None


@dataclass(frozen=True)
class StartupPlan:
    """What comes between login and 認証方法選択 (T14), in the manual's order: a newer 利用規約 to accept again (T01),
    バージョン更新 (only when a newer version is published), the unread お知らせ (T04; empty: the list is skipped)."""

    terms: Document | None
    release: ReleaseInfo | None
    notices: list[Notice]


class TerminalCore:
    """Made in a few milliseconds: only the SQLite settings are opened. The device key (keyring, cryptography), httpx
    and the card readers are loaded on first use or by ``preload()``, after the first screen is painted (issue 12)."""

    def __init__(
        self,
        server_url: str | None = None,
        *,
        data_dir: Path | str | None = None,
        store: LocalStore | None = None,
        readers: ReaderProvider | None = None,
        transport: httpx.BaseTransport | None = None,
        use_keyring: bool = True,
        app_version: str = "",
        online_interval: float = ONLINE_INTERVAL,
        offline_interval: float = OFFLINE_INTERVAL,
    ):
        self.store = store or LocalStore(data_dir, use_keyring=use_keyring)
        self.server_url = (server_url or self.store.get_setting("registration.server_url") or "").rstrip("/")
        self._app_version = app_version
        self._lock = threading.RLock()
        self._readers = readers
        self._status_listeners: list[Any] = []
        self._next_heartbeat = 0.0
        self.connectivity = Connectivity(self._probe, online_interval=online_interval, offline_interval=offline_interval)
        self.api = ApiClient(
            self.server_url or "http://invalid.localhost",
            transport=transport,
            identity_loader=self._stored_identity,
            on_reachability=self.connectivity.report,
        )
        self.sync = SyncRelay(
            self.store, self.api, on_deregistered=self._forget_registration, on_round=lambda _r: self._status_changed()
        )
        self.search = ResultSearch(self.api, self.store, is_offline=lambda: self.connectivity.offline)
        self.documents = Documents(self.api, self.store)
        self.notices = Notices(self.api, self.store)
        self.releases = Releases(self.api, self.store, app_version)
        self.account = Account(self.api, self.store)
        self.connectivity.add_listener(self._connectivity_changed)
        self.store.purge_delivered(window_start_utc())  # results the search can no longer ask for leave the tablet

    @property
    def readers(self) -> ReaderProvider:
        """The PC/SC readers unless others were given, made on first use (the card stack is not needed to start)."""
        with self._lock:
            if self._readers is None:
                self._readers = PcscReaderProvider()
            return self._readers

    # --- identity ---------------------------------------------------------------------------------------------------
    def _stored_identity(self) -> tuple[str | None, Any]:
        """The device id and Ed25519 key from the encrypted store; the API client asks on its first signed call."""
        from contracts.signing import private_key_from_bytes  # with the first signed call, not at start-up

        raw = self.store.get_secret(DEVICE_KEY_SECRET)
        device_id = self.store.get_setting("registration.device_id")
        return (device_id, private_key_from_bytes(raw)) if raw and device_id else (device_id, None)

    def preload(self) -> None:
        """Load now what the first check would otherwise load: the data key and device identity (keyring,
        cryptography), the HTTP client, the card protocol and the result schema. The program runs this on a
        background thread once the first screen is painted (issue 12, start-up)."""
        import contracts.result_schema  # noqa: F401 - imported for its side effect: jsonschema loaded
        import terminal_agent.card.jpki  # noqa: F401 - likewise: the card protocol (cryptography.x509)

        self.readers  # noqa: B018 - made now: the PC/SC layer is imported here, its first call stays with the check
        if self.is_registered():
            self.api.identity()
        self.api.http()

    @property
    def app_version(self) -> str:
        """This terminal's version (the package metadata unless given), read on first use: not at start-up."""
        return self._app_version or installed_version()

    @property
    def registration(self) -> Registration | None:
        device_id = self.store.get_setting("registration.device_id")
        if not device_id:
            return None
        return Registration(
            device_id,
            self.store.get_setting("registration.institution_code", ""),
            self.store.get_setting("registration.institution_name", ""),
            self.store.get_setting("registration.server_url", self.server_url),
        )

    def is_registered(self) -> bool:
        return self.registration is not None and self.store.has_secret(DEVICE_KEY_SECRET)

    def has_passcode(self) -> bool:
        return bool(self.store.get_setting("passcode.hash"))

    def start_screen(self) -> str:
        """T14: where the app opens: 利用規約 when not registered, passcode setup if missing, システムログイン after a
        ログアウト (T13), else passcode login."""
        if not self.is_registered():
            return "terms"
        if not self.has_passcode():
            return "passcode_setup"
        if self.account.logged_out:
            return "system_login"
        return "login"

    # --- T01 / T06: documents -----------------------------------------------------------------------------------------
    def document(self, kind: str) -> Document:
        """利用規約 / 個人情報の取り扱い / ライセンス: the server's version, or this tablet's copy offline.
        Raises ``DocumentUnavailable`` when neither can be had."""
        return self.documents.get(kind)

    def accept_terms(self, version: str | None = None) -> None:
        """同意して利用開始 / 同意する: the version shown (default: the last one read from the server)."""
        if version is None:
            kept = self.documents.cached(TERMS)
            version = kept.version if kept else ""
        self.documents.accept_terms(version)

    @property
    def terms_accepted(self) -> bool:
        return bool(self.store.get_setting("terms.accepted_at"))

    def terms_to_accept(self) -> Document | None:
        """A 利用規約 newer than the one accepted here (T01: consent is asked again at the next start)."""
        return self.documents.terms_to_accept()

    # --- T04 お知らせ, T14 バージョン更新 -------------------------------------------------------------------------------
    def unread_notices(self) -> list[Notice]:
        return self._guarded(self.notices.unread)

    def all_notices(self) -> NoticeList:
        return self._guarded(self.notices.all)

    def mark_notice_read(self, notice_id: int) -> None:
        self._guarded(lambda: self.notices.mark_read(notice_id))

    def check_release(self) -> ReleaseInfo | None:
        """The server's answer for this version; None when nothing is known (never asked, and offline)."""
        try:
            return self._guarded(self.releases.check)
        except ApiFailure as failure:
            if failure.is_network or failure.code == "not_registered":
                return None
            raise

    @property
    def update_required(self) -> bool:
        """Below the minimum supported version: checks are blocked until the app is updated (T14)."""
        return self.releases.update_required

    def startup(self) -> StartupPlan:
        """After login (and after 初期登録): what to show before 認証方法選択; offline, only what is kept here."""
        terms = self.terms_to_accept()
        if self.connectivity.offline:  # learned just now: no more waiting on the network (T30)
            return StartupPlan(terms, self._worth_showing(self.releases.kept()), [])
        release = self._worth_showing(self.check_release())
        try:
            notices = self.unread_notices()
        except ApiFailure as failure:
            log.info("unread notices not available: %s", failure.code)
            notices = []
        return StartupPlan(terms, release, notices)

    @staticmethod
    def _worth_showing(release: ReleaseInfo | None) -> ReleaseInfo | None:
        """バージョン更新 is shown only when a newer version is published (T14)."""
        return release if release is not None and (release.update_available or release.update_required) else None

    def validate_registration(self, form: RegistrationForm) -> dict[str, list[str]]:
        return validate(form)

    def register(self, form: RegistrationForm, *, device_name: str = "") -> Registration:
        """Validate, make a fresh Ed25519 key, register with the server, keep the identity (key encrypted)."""
        errors = validate(form)
        if errors:
            raise RegistrationFailed("入力内容に誤りがあります。", errors)
        if not self.server_url:
            raise RegistrationFailed(MSG_NO_SERVER, code="no_server")
        from contracts.signing import generate_device_key, private_key_to_bytes, public_key_b64  # not at start-up

        key = generate_device_key()
        readers = self._safe_reader_names()
        payload = registration_payload(
            form, public_key_b64(key), device_name=device_name, reader_name=self.selected_reader or (readers or [""])[0],
            app_version=self.app_version,
        )
        try:
            answer = self.api.register(payload)
        except ApiFailure as failure:
            raise RegistrationFailed(failure.message, failure.fields, failure.code, failure.request_id) from failure
        with self._lock:
            self.store.put_secret(DEVICE_KEY_SECRET, private_key_to_bytes(key))
            self.store.set_setting("registration.device_id", answer["device_id"])
            self.store.set_setting("registration.institution_code", answer.get("institution_code", form.institution_code))
            self.store.set_setting("registration.institution_name", answer.get("institution_name", ""))
            self.store.set_setting("registration.server_url", self.server_url)
            self.account.remember(form.stripped().account_id)
            if self.store.get_setting("settings.visual_check") is None:
                self.store.set_setting("settings.visual_check", True)  # T11: on after registration
            self.api.set_identity(answer["device_id"], key)
        log.info("device registered as %s", answer["device_id"])
        return self.registration  # type: ignore[return-value]

    # --- T03 / T10 / T14 --------------------------------------------------------------------------------------------
    def set_passcode(self, first: str, confirmation: str) -> None:
        self.store.set_setting("passcode.hash", passcode.new_passcode_hash(first, confirmation))

    def login(self, code: str) -> bool:
        """T14: whether ``code`` is this terminal's passcode."""
        return self.verify_passcode(code)

    def verify_passcode(self, code: str) -> bool:
        stored = self.store.get_setting("passcode.hash")
        return bool(stored) and passcode.verify_passcode(code, stored)

    def change_passcode(self, current: str, new: str, confirmation: str) -> None:
        if not self.verify_passcode(current):
            raise passcode.PasscodeError(passcode.MSG_WRONG)
        self.set_passcode(new, confirmation)

    # --- T09 アカウントパスワード設定, T13 ログアウト / システムログイン ------------------------------------------------
    @property
    def account_id(self) -> str:
        return self.account.account_id

    def change_account_password(self, current: str, new: str, confirmation: str, account_id: str = "") -> None:
        """Raises ``AccountFailure`` (field errors before sending; the server's answers after)."""
        self._guarded(lambda: self.account.change_password(current, new, confirmation, account_id))

    def logout(self) -> None:
        """ログアウトする: システムログイン now and at every start until a sign-in succeeds."""
        self.account.logout()

    def system_login(self, account_id: str, password: str) -> SignedIn:
        return self._guarded(lambda: self.account.login(account_id, password))

    # --- settings (T05, T11) ---------------------------------------------------------------------------------------
    @property
    def visual_check_enabled(self) -> bool:
        return bool(self.store.get_setting("settings.visual_check", True))

    def set_visual_check(self, enabled: bool) -> None:
        self.store.set_setting("settings.visual_check", bool(enabled))

    def method_choices(self) -> list[Method]:
        """T11/T15: 目視 or 暗証番号 per the toggle, then iPhone and Android."""
        first = Method.VISUAL if self.visual_check_enabled else Method.PIN
        return [first, Method.IPHONE, Method.ANDROID]

    def list_readers(self) -> list[str]:
        return self.readers.list_readers()

    def _safe_reader_names(self) -> list[str]:
        try:
            return self.readers.list_readers()
        except Exception:  # no reader at registration is fine; it is chosen later (T05)
            return []

    @property
    def selected_reader(self) -> str | None:
        return self.store.get_setting("reader.selected")

    def select_reader(self, name: str) -> None:
        self.store.set_setting("reader.selected", name)

    def watch_readers(self, on_change: Any) -> ReaderWatch:
        """T05: ``on_change(names)`` now and whenever a reader is plugged in or pulled (a worker thread calls it);
        ``watch.stop()`` ends it."""
        return ReaderWatch(self.readers, on_change).start()

    # --- checks (T15–T19) ------------------------------------------------------------------------------------------
    def check_service(self) -> CheckService:
        return CheckService(
            self.store,
            self.api,
            self.readers,
            after_store=self._after_store,
            on_deregistered=self._forget_registration,
            is_offline=lambda: self.connectivity.offline,
        )

    def _after_store(self) -> bool:
        self._status_changed()  # one more result waits (until the sync below delivers it)
        return self.sync.sync_once().delivered > 0

    def start_check(self, method: Method | str, *, consent_specific_diseases: bool = False) -> CheckFlow:
        """Refused before anything is read when the check cannot complete: not registered, below the minimum
        supported version (T14), or the server out of reach (T30, ``CheckFailure`` kind ``offline``)."""
        if not self.is_registered():
            raise RegistrationFailed(MSG_DEREGISTERED, code="not_registered")
        if self.update_required:
            raise CheckFailure(FailureKind.UPDATE_REQUIRED, MSG_REQUIRED, "update_required", "バージョン更新")
        if self.connectivity.offline:
            raise CheckFailure(FailureKind.OFFLINE, MSG_OFFLINE_CHECK, "offline")
        return CheckFlow(Method(method), self.check_service(), consent_specific_diseases=consent_specific_diseases)

    def start_insurance_registration(self, method: Method | str) -> InsuranceRegistration:
        """T27: after a 目視 or 暗証番号 read answered 6002 (``CheckFailure`` kind ``registration_required``)."""
        if not self.is_registered():
            raise RegistrationFailed(MSG_DEREGISTERED, code="not_registered")
        return InsuranceRegistration(Method(method), self.check_service())

    # --- results (T21, T24) ----------------------------------------------------------------------------------------
    @staticmethod
    def result_view(document: dict[str, Any]) -> formatting.ResultView:
        return formatting.build_result_view(document)

    @staticmethod
    def copy_text(document: dict[str, Any]) -> str:
        return formatting.copy_text(document)

    # --- sync and connectivity (S06, T30) ------------------------------------------------------------------------------
    def sync_now(self) -> SyncReport:
        return self.sync.sync_once()

    def pending_results(self) -> int:
        return self.store.pending_count()

    def start_background_sync(self, interval: float = 30.0) -> None:
        self.sync.start_background(interval)

    def start_background(self, sync_interval: float = 30.0) -> None:
        """The relay that sends waiting results and the probe that keeps online / offline fresh (T30)."""
        self.sync.start_background(sync_interval)
        self.connectivity.start()

    def status(self) -> TerminalStatus:
        pending = self.store.pending_count() if self.is_registered() else None
        return TerminalStatus(self.connectivity.online, pending)

    def add_status_listener(self, listener: Any) -> None:
        """``listener(TerminalStatus)`` whenever reachability or the number of waiting results changes (any thread)."""
        self._status_listeners.append(listener)

    def remove_status_listener(self, listener: Any) -> None:
        if listener in self._status_listeners:
            self._status_listeners.remove(listener)

    def _status_changed(self) -> None:
        try:
            status = self.status()
        except Exception:  # the store is closing
            return
        for listener in list(self._status_listeners):
            try:
                listener(status)
            except Exception:
                log.exception("status listener failed")

    def _connectivity_changed(self, online: bool) -> None:
        if online:
            self.sync.resume()  # what waited goes now, not after the backoff of the outage
        self._status_changed()

    def _probe(self) -> None:
        """The connectivity probe: the signed heartbeat when registered and due (S04), else the unsigned ping."""
        if self.is_registered() and time.monotonic() >= self._next_heartbeat:
            answer = self.api.heartbeat(app_version=self.app_version, reader_name=self.selected_reader or "")
            self._next_heartbeat = time.monotonic() + float(answer.get("heartbeat_interval_seconds") or 60)
        else:
            self.api.ping()

    # --- search (T08) ----------------------------------------------------------------------------------------------
    def default_search_criteria(self) -> SearchCriteria:
        return SearchCriteria.default()

    def search_results(self, criteria: SearchCriteria | None = None) -> SearchPage:
        return self._guarded(lambda: self.search.run(criteria or SearchCriteria.default()))

    def search_page(self, which: str) -> SearchPage:
        return self._guarded(lambda: self.search.go(which))

    def result_document(self, result_id: str) -> dict[str, Any]:
        """The full result of a D-10-W row: from the server, or from this tablet when the list was a local one."""
        page = self.search.page
        if (page is not None and page.local) or self.connectivity.offline:
            document = self.search.local_document(result_id)
            if document is not None:
                return document
        return self._guarded(lambda: self.api.get_result(result_id))["result"]

    # --- versions (issue 16) ---------------------------------------------------------------------------------------
    def versions(self) -> Versions:
        """This app's version and the server's (``GET /api/v1/version``); blocking, one short unsigned call."""
        server = ""
        if self.server_url:
            try:
                server = str(self.api.server_version().get("version", ""))
            except ApiFailure:
                log.info("server version unavailable")
        return Versions(app=self.app_version, server=server)

    # --- deregistration (T12) --------------------------------------------------------------------------------------
    def deregister(self) -> None:
        try:
            self.api.deregister()
        except ApiFailure as failure:
            if not failure.means_deregistered:
                raise
        self._forget_registration()

    def _forget_registration(self) -> None:
        with self._lock:
            self.store.wipe_registration()
            self.api.set_identity(None, None)

    def _guarded(self, call: Any) -> Any:
        """A retired or deregistered device turns the terminal back into its 未登録 state (S03)."""
        try:
            return call()
        except ApiFailure as failure:
            if failure.means_deregistered:
                self._forget_registration()
            raise

    def close(self) -> None:
        self.connectivity.stop()
        self.sync.stop()
        self.api.close()
        self.store.close()
        backend_close = getattr(getattr(self._readers, "backend", None), "close", None)
        if backend_close is not None:
            backend_close()  # PC/SC contexts are released; in-process readers have nothing to close
