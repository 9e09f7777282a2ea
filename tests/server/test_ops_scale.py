"""Scale-out (issue 16, point 5): two gunicorn instances behind Debian's nginx (deploy/nginx/) and two Celery
workers on one PostgreSQL and one Redis behave as one server.

Registration goes through instance A, signed calls through instance B; a request replayed from A to B is refused;
a retirement done in A's console is refused at once by B; exports requested through nginx are each built by exactly
one worker. Every process is this test's own, on spare ports; they share the test database and this run's Redis db.
"""

from __future__ import annotations

import json
import os
import re
import time
from contextlib import ExitStack

import httpx
import pytest
from django.db import connection

from contracts import signing
from server.celery import app as celery_app
from server.common.actor import Actor
from server.devices.actions import do_issue_activation_code
from server.institutions.actions import do_create_app_account, do_create_institution, do_create_staff_user
from server.ops.metrics import CELERY_COUNTS_KEY, redis_client
from tests.processes import celery_worker, database_url, gunicorn, nginx
from tests.server import factories

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "Demo#Pass1"
EXPORT_TASK = "results.build_export|succeeded"


@pytest.fixture
def cluster(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update({"DJANGO_SETTINGS_MODULE": "server.settings.test",
                "DATABASE_URL": database_url(connection.settings_dict["NAME"]), "PYTHONUNBUFFERED": "1"})
    celery_app.control.purge()
    with ExitStack() as stack:
        a = stack.enter_context(gunicorn(env, log_path=tmp_path / "web-a.log"))
        b = stack.enter_context(gunicorn(env, log_path=tmp_path / "web-b.log"))
        for name in ("w1", "w2"):
            stack.enter_context(celery_worker(env, f"scale-{name}-{os.getpid()}", tmp_path / f"worker-{name}.log"))
        front = stack.enter_context(nginx([a, b], tmp_path / "nginx"))
        yield {"a": a, "b": b, "front": front, "dir": tmp_path}


def signed(method: str, url: str, key, device_id: str, body: dict | None = None, nonce: str | None = None):  # noqa: ANN001
    raw = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
    headers = signing.sign_request(method, url, {"Content-Type": "application/json"}, raw, key, device_id, nonce=nonce)
    return httpx.request(method, url, content=raw, headers={**headers, "Content-Type": "application/json"})


def console_retire(base: str, device_id: str, username: str) -> httpx.Response:
    with httpx.Client(base_url=base, follow_redirects=False) as browser:
        login = browser.get("/console/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text)[1]
        signed_in = browser.post("/console/login/", data={"username": username, "password": PASSWORD + "x",
                                                          "csrfmiddlewaretoken": token})
        assert signed_in.status_code == 302, signed_in.text[:500]
        page = browser.get(f"/console/devices/{device_id}/retire/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
        return browser.post(f"/console/devices/{device_id}/retire/",
                            data={"reason": "紛失", "confirm": "on", "csrfmiddlewaretoken": token})


def test_two_web_instances_and_two_workers_behave_as_one(cluster):
    a, b, front = cluster["a"], cluster["b"], cluster["front"]
    institution = do_create_institution(code=factories.institution_code(), name="しかく整骨院", actor=Actor.cli("pytest"))
    do_create_app_account(institution, "clinic-admin", PASSWORD, actor=Actor.cli("pytest"))
    do_create_staff_user(institution, "it-ops", PASSWORD + "x", "it", actor=Actor.cli("pytest"))
    key = signing.generate_device_key()
    code, _ = do_issue_activation_code(institution, actor=Actor.cli("pytest"))

    # Registration through A; signed calls through B (the device's key, nonce and cache state are shared).
    registered = httpx.post(a + "/api/v1/devices/register", json={
        "institution_code": institution.code, "account_id": "clinic-admin", "password": PASSWORD,
        "activation_code": code, "public_key": signing.public_key_b64(key), "device_name": "受付1",
        "os": "Windows 11", "app_version": "0.1.0", "reader_name": "Virtual PCD 00 00",
    })
    assert registered.status_code == 201, registered.text
    device_id = registered.json()["device_id"]
    assert signed("GET", b + "/api/v1/devices/me", key, device_id).status_code == 200
    items = [factories.batch_item(institution=institution.code) for _ in range(3)]
    pushed = signed("POST", b + "/api/v1/results/batch", key, device_id, {"results": items})
    assert pushed.status_code == 200 and {i["status"] for i in pushed.json()["items"]} == {"stored"}

    # A request replayed from one instance to the other is refused: the nonce is claimed in the shared Redis.
    nonce = "scale-replay-" + os.urandom(6).hex()
    assert signed("GET", a + "/api/v1/devices/me", key, device_id, nonce=nonce).status_code == 200
    replay = signed("GET", b + "/api/v1/devices/me", key, device_id, nonce=nonce)
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "replayed_request"

    # Through nginx, round robin over A and B: searches and exports; each export built once by one worker.
    redis = redis_client()
    before = int(redis.hget(CELERY_COUNTS_KEY, EXPORT_TASK) or 0)
    for _ in range(4):
        listed = signed("GET", front + "/api/v1/results?scope=institution", key, device_id)
        assert listed.status_code == 200 and len(listed.json()["results"]) == 3
    exports = []
    for _ in range(3):
        started = signed("POST", front + "/api/v1/results/exports", key, device_id, {"scope": "institution"})
        assert started.status_code == 202, started.text
        exports.append(started.json()["export_id"])
    deadline = time.monotonic() + 60
    states: dict[str, str] = {}
    while time.monotonic() < deadline:
        states = {e: signed("GET", f"{front}/api/v1/results/exports/{e}", key, device_id).json()["status"]
                  for e in exports}
        if all(s == "done" for s in states.values()):
            break
        time.sleep(0.3)
    assert set(states.values()) == {"done"}, states
    time.sleep(0.5)  # the succeeded signal is counted right after the result is stored
    assert int(redis.hget(CELERY_COUNTS_KEY, EXPORT_TASK) or 0) - before == len(exports)
    built = {n: re.findall(r"Task results\.build_export\[([0-9a-f-]{36})\] succeeded",
                           (cluster["dir"] / f"worker-{n}.log").read_text()) for n in ("w1", "w2")}
    all_built = built["w1"] + built["w2"]
    assert len(all_built) == len(set(all_built)) == len(exports), built  # one delivery per export, no second

    # nginx balanced over both instances, and its JSON access lines carry Django's request ids.
    access = [json.loads(line) for line in (cluster["dir"] / "nginx" / "access.log").read_text().splitlines()]
    assert {line["upstream"] for line in access} >= {a.removeprefix("http://"), b.removeprefix("http://")}
    assert all(len(line["request_id"]) == 36 for line in access if line["path"].startswith("/api/"))

    # Retired in A's console: refused at once by B, and through nginx.
    retired = console_retire(a, device_id, "it-ops")
    assert retired.status_code == 302, retired.text[:500]
    for base in (b, front, front):
        refused = signed("GET", base + "/api/v1/devices/me", key, device_id)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "device_retired"
