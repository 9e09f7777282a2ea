"""S03/S04: a retirement or a deregistration is refused at once in every process. The device is read by primary key
on each signed call, so there is nothing to invalidate: the test retires in this process (the console's or the
command line's action) and a gunicorn with two workers — two more processes — refuses the very next calls."""

from __future__ import annotations

import json
import os

import httpx
import pytest
from django.db import connection

from contracts import signing
from server.common.actor import Actor
from server.devices.actions import do_issue_activation_code, do_rename_device, do_retire_device
from server.devices.models import Device
from tests.processes import database_url, gunicorn
from tests.server.conftest import registration_body

pytestmark = pytest.mark.django_db(transaction=True)


def signed(base: str, method: str, path: str, key, device_id: str, body: dict | None = None) -> httpx.Response:  # noqa: ANN001
    raw = b"" if body is None else json.dumps(body).encode()
    headers = signing.sign_request(method, base + path, {}, raw, key, device_id)
    return httpx.request(method, base + path, content=raw, headers={**headers, "Content-Type": "application/json"})


def test_retire_and_deregister_are_refused_at_once_by_every_worker(institution, account, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update({"DJANGO_SETTINGS_MODULE": "server.settings.test",
                "DATABASE_URL": database_url(connection.settings_dict["NAME"])})  # fmt: skip
    with gunicorn(env, workers=2, log_path=tmp_path / "web.log") as base:
        terminals = []
        for name in ("受付1", "受付2"):
            key = signing.generate_device_key()
            code, _ = do_issue_activation_code(institution, device_name=name, actor=Actor.cli("pytest"))
            answer = httpx.post(base + "/api/v1/devices/register", json=registration_body(institution, code, key))
            assert answer.status_code == 201, answer.text
            terminals.append((key, answer.json()["device_id"]))
        (key, device_id), (other_key, other_id) = terminals
        for _ in range(4):  # both workers have answered for both devices
            assert signed(base, "GET", "/api/v1/devices/me", key, device_id).status_code == 200
            assert signed(base, "GET", "/api/v1/devices/me", other_key, other_id).status_code == 200

        do_rename_device(Device.objects.get(pk=device_id), "受付3", actor=Actor.cli("it"))
        for _ in range(4):  # no worker serves the old row
            assert signed(base, "GET", "/api/v1/devices/me", key, device_id).json()["device_name"] == "受付3"
        do_retire_device(Device.objects.get(pk=device_id), "紛失", actor=Actor.cli("it"))
        for _ in range(4):
            refused = signed(base, "GET", "/api/v1/devices/me", key, device_id)
            assert (refused.status_code, refused.json()["error"]["code"]) == (403, "device_retired")

        assert signed(base, "POST", "/api/v1/devices/me/deregister", other_key, other_id).status_code == 200
        for _ in range(4):
            refused = signed(base, "POST", "/api/v1/devices/me/heartbeat", other_key, other_id, {})
            assert (refused.status_code, refused.json()["error"]["code"]) == (403, "device_deregistered")
