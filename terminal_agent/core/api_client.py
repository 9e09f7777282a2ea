"""HTTP client of the clinic server and the sandbox, signed per RFC 9421 (docs/contracts.md).

Every failure becomes ``ApiFailure(code, message)`` carrying the server's Japanese message, so screens show it as is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

NETWORK_DOWN = "network_unavailable"
MSG_NETWORK_DOWN = "サーバーに接続できません。ネットワーク接続を確認してから、もう一度お試しください。"
MSG_TIMEOUT = "サーバーからの応答がありません。しばらく待ってから、もう一度お試しください。"
MSG_BAD_RESPONSE = "サーバーから想定外の応答がありました。管理者にお問い合わせください。"
# Codes that mean this tablet is no longer registered: the terminal returns to its 未登録 state (S03).
REQUEST_ID_HEADER = "X-Request-Id"
DEREGISTERED_CODES = frozenset({"device_retired", "device_deregistered", "unknown_device"})
# T30: an unreachable server must be noticed in seconds, not after the 15 s read timeout (a refused connection is
# immediate; a silent network is cut off here).
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 15.0


class ApiFailure(Exception):
    """A call that did not succeed; ``message`` is Japanese and fit for a screen."""

    def __init__(
        self,
        code: str,
        message: str,
        http_status: int = 0,
        fields: dict[str, list[str]] | None = None,
        request_id: str = "",
    ):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status
        self.fields = fields or {}
        # The server's X-Request-Id of the failed call (empty when no answer came): error dialogs show it so that
        # support can find the call in the server's logs.
        self.request_id = request_id

    @property
    def is_network(self) -> bool:
        return self.code == NETWORK_DOWN or self.http_status == 0

    @property
    def means_deregistered(self) -> bool:
        return self.code in DEREGISTERED_CODES


class ApiClient:
    """One per server URL; ``signed`` calls need the device id and key from registration.

    httpx and the signing stack (≈ 150 ms of imports) are loaded with the first request, not when the client is made,
    and ``identity_loader`` (the device id and key from the encrypted store) is asked on the first signed request: the
    terminal paints its first screen before any of it (issue 12, start-up).
    """

    def __init__(
        self,
        base_url: str,
        *,
        device_id: str | None = None,
        key: Ed25519PrivateKey | None = None,
        identity_loader: Callable[[], tuple[str | None, Ed25519PrivateKey | None]] | None = None,
        timeout: float = READ_TIMEOUT,
        connect_timeout: float = CONNECT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        on_reachability: Callable[[bool], None] | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.device_id = device_id
        self.key = key
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.transport = transport
        # Told after every call whether the server answered at all (T30: the connectivity state follows real calls).
        self.on_reachability = on_reachability
        self._identity_loader = identity_loader
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def http(self) -> httpx.Client:
        """The keep-alive HTTP client, made on first use."""
        with self._lock:
            if self._client is None:
                import httpx  # first request, not at start-up

                self._client = httpx.Client(
                    base_url=self.base_url,
                    timeout=httpx.Timeout(self.timeout, connect=self.connect_timeout),
                    transport=self.transport,
                )
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()

    def identity(self) -> tuple[str | None, Ed25519PrivateKey | None]:
        """(device id, key): set by ``set_identity`` or, the first time, read through ``identity_loader``."""
        with self._lock:
            if self._identity_loader is not None:
                load, self._identity_loader = self._identity_loader, None
                self.device_id, self.key = load()
            return self.device_id, self.key

    def set_identity(self, device_id: str | None, key: Ed25519PrivateKey | None) -> None:
        with self._lock:
            self._identity_loader = None
            self.device_id, self.key = device_id, key

    def _request(self, method: str, path: str, *, signed: bool = True, **kwargs: Any) -> dict[str, Any]:
        import httpx  # loaded by _http(); named here for its exception classes

        from contracts.signing import DeviceSignatureAuth  # with the first request, not at start-up

        if signed:
            device_id, key = self.identity()
            if not (device_id and key):
                raise ApiFailure("not_registered", "この端末は登録されていません。初期登録を行ってください。")
            kwargs["auth"] = DeviceSignatureAuth(key, device_id)
        try:
            response = self.http().request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            self._reachable(False)
            raise ApiFailure(NETWORK_DOWN, MSG_TIMEOUT) from exc
        except httpx.TransportError as exc:
            self._reachable(False)
            raise ApiFailure(NETWORK_DOWN, MSG_NETWORK_DOWN) from exc
        # A proxy's 502/504 means the clinic server itself is out of reach.
        self._reachable(response.status_code not in (502, 504))
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.is_success and isinstance(body, dict):
            return body
        error = body.get("error") if isinstance(body, dict) else None
        request_id = response.headers.get(REQUEST_ID_HEADER, "")
        if isinstance(error, dict) and error.get("code"):
            raise ApiFailure(
                str(error["code"]), str(error.get("message") or MSG_BAD_RESPONSE), response.status_code,
                error.get("fields") or {}, request_id,
            )
        raise ApiFailure("bad_response", MSG_BAD_RESPONSE, response.status_code, request_id=request_id)

    # --- server ---------------------------------------------------------------------------------------------------
    def server_version(self) -> dict[str, Any]:
        return self._request("GET", "/api/v1/version", signed=False)

    def _reachable(self, answered: bool) -> None:
        if self.on_reachability is not None:
            self.on_reachability(answered)

    # --- devices --------------------------------------------------------------------------------------------------
    def register(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", "/api/v1/devices/register", signed=False, json=payload)

    def me(self) -> dict[str, Any]:
        return self._request("GET", "/api/v1/devices/me")

    def deregister(self) -> dict[str, Any]:
        return self._request("POST", "/api/v1/devices/me/deregister", json={})

    def heartbeat(self, *, app_version: str = "", reader_name: str = "") -> dict[str, Any]:
        body = {k: v for k, v in (("app_version", app_version), ("reader_name", reader_name)) if v}
        return self._request("POST", "/api/v1/devices/me/heartbeat", json=body)

    def ping(self) -> dict[str, Any]:
        return self._request("GET", "/api/v1/ping", signed=False)

    # --- app account (T09, T13) -----------------------------------------------------------------------------------
    def account_login(self, account_id: str, password: str) -> dict[str, Any]:
        return self._request("POST", "/api/v1/accounts/login", json={"account_id": account_id, "password": password})

    def change_account_password(self, account_id: str, current: str, new: str) -> dict[str, Any]:
        body = {"account_id": account_id, "current_password": current, "new_password": new}
        return self._request("POST", "/api/v1/accounts/password", json=body)

    # --- notices, documents, releases (T01, T04, T06, T14) --------------------------------------------------------
    def notices(self, *, unread_only: bool = False) -> dict[str, Any]:
        return self._request("GET", "/api/v1/notices", params={"unread": "1" if unread_only else "0"})

    def mark_notice_read(self, notice_id: int) -> dict[str, Any]:
        return self._request("POST", f"/api/v1/notices/{int(notice_id)}/read", json={})

    def document(self, kind: str) -> dict[str, Any]:
        """Signed once registered (verified as usual); unsigned before, so 利用規約 shows at first launch (T01)."""
        device_id, key = self.identity()
        return self._request("GET", f"/api/v1/documents/{kind}", signed=bool(device_id and key))

    def latest_release(self, current: str) -> dict[str, Any]:
        return self._request("GET", "/api/v1/app-release/latest", params={"current": current})

    # --- results --------------------------------------------------------------------------------------------------
    def post_results(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        return self._request("POST", "/api/v1/results/batch", json={"results": items})

    def search_results(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._request("GET", "/api/v1/results", params={k: v for k, v in params.items() if v is not None})

    def get_result(self, result_id: str) -> dict[str, Any]:
        return self._request("GET", f"/api/v1/results/{result_id}")

    # --- sandbox (オンライン資格確認等システム stand-in) ----------------------------------------------------------------
    def new_challenge(self) -> dict[str, Any]:
        return self._request("POST", "/sandbox/onshi/v1/challenges", json={})

    def query_qualification(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", "/sandbox/onshi/v1/qualifications", json=body)

    def registration_terms(self) -> dict[str, Any]:
        return self._request("GET", "/sandbox/onshi/v1/registrations/terms")

    def request_registration(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", "/sandbox/onshi/v1/registrations", json=body)

    def registration(self, registration_id: str) -> dict[str, Any]:
        return self._request("GET", f"/sandbox/onshi/v1/registrations/{registration_id}")
