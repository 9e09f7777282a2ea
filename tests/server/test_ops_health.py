"""/healthz, /readyz and /metrics under the production settings, served by gunicorn (issue 16, point 2).

/readyz is tried against an unreachable Redis and an unreachable PostgreSQL by pointing the server at a closed port:
the machine's shared services are never stopped.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest
from django.db import connection

from contracts.signing import DeviceSignatureAuth
from tests.processes import ROOT, closed_port_url, database_url, gunicorn, production_env
from tests.server import factories


@pytest.fixture
def server_env(transactional_db):
    return production_env(DATABASE_URL=database_url(connection.settings_dict["NAME"]))


def test_health_readiness_and_metrics_answer_under_production_settings(
    server_env, celery_worker_process, terminal, tmp_path
):
    # As deployed: several gunicorn workers adding up their samples through PROMETHEUS_MULTIPROC_DIR.
    env = {**server_env, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus")}
    with gunicorn(env, workers=2) as url:
        health = httpx.get(url + "/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert health.json()["version"] == httpx.get(url + "/api/v1/version").json()["version"]

        ready = httpx.get(url + "/readyz", timeout=15)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok", "migrations": "ok", "redis": "ok", "celery": "ok"}

        for _ in range(6):  # unsigned, each on a new connection (so on either worker): signature_required
            assert httpx.get(url + "/api/v1/devices/me").status_code == 401
        auth = DeviceSignatureAuth(terminal.key, terminal.device_id)
        pushed = httpx.post(url + "/api/v1/results/batch", json={"results": [factories.batch_item()]}, auth=auth)
        assert pushed.status_code == 200, pushed.text
        text = httpx.get(url + "/metrics").text
    assert 'myna_http_requests_total{method="GET",route="readyz",status="200"} 1.0' in text
    assert 'myna_signed_call_refusals_total{code="signature_required"} 6.0' in text  # both workers, added up
    assert "myna_http_request_duration_seconds_bucket" in text
    assert "myna_sync_batches_total 1.0" in text and 'myna_sync_results_total{outcome="stored"} 1.0' in text
    assert 'myna_devices{state="online"}' in text and 'myna_devices{state="silent"}' in text
    assert 'myna_celery_queue_depth{queue="celery"}' in text
    # Every series the Grafana dashboard draws is one that /metrics declares.
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "myna-dashboard.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    for name in {re.sub(r"_(bucket|sum|count)$", "", n) for e in exprs for n in re.findall(r"myna_[a-z_]+", e)}:
        assert f"# TYPE {name} " in text or f"# TYPE {name.removesuffix('_total')} " in text, name


def test_readyz_is_503_when_redis_is_unreachable(server_env):
    env = {**server_env, "REDIS_URL": closed_port_url(server_env["REDIS_URL"])}
    with gunicorn(env) as url:
        assert httpx.get(url + "/healthz").status_code == 200
        ready = httpx.get(url + "/readyz", timeout=15)
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["database"] == "ok" and checks["migrations"] == "ok"
    assert checks["redis"] != "ok" and checks["celery"] != "ok"


def test_readyz_is_503_when_postgresql_is_unreachable(server_env):
    env = {**server_env, "DATABASE_URL": closed_port_url(server_env["DATABASE_URL"])}
    with gunicorn(env) as url:
        assert httpx.get(url + "/healthz").status_code == 200
        ready = httpx.get(url + "/readyz", timeout=15)
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["database"] != "ok" and checks["migrations"] != "ok"
    assert checks["redis"] == "ok"
