"""Fixtures of the server tests: real PostgreSQL, real Redis, requests signed with contracts.signing."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.cache import cache
from rest_framework.test import APIClient

from contracts import signing
from server.common.actor import Actor
from server.devices.actions import do_issue_activation_code
from server.institutions.actions import do_create_app_account, do_create_institution
from tests.server import factories

PASSWORD = "Demo#Pass1"


@pytest.fixture(autouse=True, scope="session")
def _redis_is_real(django_db_setup):
    # Fail loudly if the cache is not Redis or Redis is down: the nonce check must be tested on the real thing.
    from django.conf import settings

    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    cache.set("myna-core-test-ping", "1", 5)
    assert cache.get("myna-core-test-ping") == "1"


@dataclass
class Terminal:
    """A registered terminal: its key, id and a client that signs every call."""

    client: APIClient
    key: Ed25519PrivateKey
    device_id: str

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, Any] | None = None,
        created: datetime.datetime | None = None,
        nonce: str | None = None,
        sent_body: bytes | None = None,
        headers: dict[str, str] | None = None,
        key: Ed25519PrivateKey | None = None,
    ):
        """Sign ``body`` and send it (or ``sent_body`` instead, to tamper). Returns the response."""
        return signed_call(
            self.client,
            method,
            path,
            body,
            key=key or self.key,
            key_id=self.device_id,
            params=params,
            created=created,
            nonce=nonce,
            sent_body=sent_body,
            headers=headers,
        )

    def sync(self, items: list[Any]) -> list[dict[str, Any]]:
        """Push a batch of results (S06); the per-item outcomes."""
        response = self.call("POST", "/api/v1/results/batch", {"results": items})
        assert response.status_code == 200, response.content
        body = response.json()
        assert "server_time" in body
        return body["items"]

    def push(self, items: list[Any]) -> list[Any]:
        """Push results that must all be stored; returns ``items``."""
        assert {outcome["status"] for outcome in self.sync(items)} == {"stored"}
        return items

    def search(self, **params: Any) -> dict[str, Any]:
        """One page of the result search (S07)."""
        response = self.call("GET", "/api/v1/results", params=params)
        assert response.status_code == 200, response.content
        return response.json()


def signed_call(
    client: APIClient,
    method: str,
    path: str,
    body: Any = None,
    *,
    key: Ed25519PrivateKey,
    key_id: str,
    params: dict[str, Any] | None = None,
    created: datetime.datetime | None = None,
    nonce: str | None = None,
    sent_body: bytes | None = None,
    headers: dict[str, str] | None = None,
):
    query = ("?" + urlencode(params)) if params else ""
    raw = b"" if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    url = f"http://testserver{path}{query}"
    if headers is None:
        headers = signing.sign_request(method, url, {}, raw, key, key_id, created=created, nonce=nonce)
    return client.generic(
        method,
        path + query,
        data=raw if sent_body is None else sent_body,
        content_type="application/json",
        headers=headers,
    )


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def institution(db):
    return do_create_institution(code=factories.institution_code(), name="しかく整骨院", actor=Actor.cli("pytest"))


@pytest.fixture
def other_institution(db):
    return do_create_institution(code=factories.institution_code(), name="ほかの診療所", actor=Actor.cli("pytest"))


@pytest.fixture
def account(institution):
    return do_create_app_account(institution, "clinic-admin", PASSWORD, actor=Actor.cli("pytest"))


def registration_body(institution, code: str, key: Ed25519PrivateKey, **overrides: Any) -> dict[str, Any]:
    body = {
        "institution_code": institution.code,
        "account_id": "clinic-admin",
        "password": PASSWORD,
        "activation_code": code,
        "public_key": signing.public_key_b64(key),
        "device_name": "受付1",
        "os": "Windows 11",
        "app_version": "0.1.0",
        "reader_name": "Virtual PCD 00 00",
    }
    body.update(overrides)
    return body


def register(api_client: APIClient, institution, name: str = "受付1") -> Terminal:
    key = signing.generate_device_key()
    code, _ = do_issue_activation_code(institution, actor=Actor.cli("pytest"))
    response = api_client.post(
        "/api/v1/devices/register", registration_body(institution, code, key, device_name=name), format="json"
    )
    assert response.status_code == 201, response.json()
    return Terminal(api_client, key, response.json()["device_id"])


@pytest.fixture
def terminal(api_client, institution, account) -> Terminal:
    return register(api_client, institution)


@pytest.fixture
def second_terminal(institution, account) -> Terminal:
    return register(APIClient(), institution, name="診察室")


@pytest.fixture
def foreign_terminal(other_institution) -> Terminal:
    do_create_app_account(other_institution, "clinic-admin", PASSWORD, actor=Actor.cli("pytest"))
    return register(APIClient(), other_institution, name="よその端末")
