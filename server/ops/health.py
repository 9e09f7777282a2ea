"""``/healthz`` (the process answers) and ``/readyz`` (it can serve: PostgreSQL, Redis, a live Celery worker, every
migration applied), on django-health-check's checks (issue 16, point 2).

``/readyz`` answers 200 with each check's state, or 503 naming what failed; a load balancer takes an instance out
of rotation on 503 and a compose/systemd probe restarts nothing on it (``/healthz`` is the liveness probe).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
from importlib import metadata

from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import Error as DatabaseError
from django.http import HttpRequest, JsonResponse
from django.utils.cache import add_never_cache_headers
from health_check.base import HealthCheck, HealthCheckResult
from health_check.checks import Database
from health_check.contrib.celery import Ping
from health_check.contrib.redis import Redis
from health_check.exceptions import ServiceUnavailable
from redis.asyncio import Redis as AsyncRedis


def server_version() -> str:
    """The installed version of this project (pyproject.toml), as the terminal shows it under ライセンス."""
    try:
        return metadata.version("myna-clinic")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclasses.dataclass
class MigrationsApplied(HealthCheck):
    """Every migration of the code is applied: a web or worker started before ``migrate`` is not ready."""

    alias: str = DEFAULT_DB_ALIAS

    def run(self) -> None:
        connection = connections[self.alias]
        try:
            executor = MigrationExecutor(connection)
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except DatabaseError as exc:
            raise ServiceUnavailable("database unreachable") from exc
        finally:
            connection.close()  # this runs in a thread of the check executor: leave no connection behind
        if pending:
            raise ServiceUnavailable(f"{len(pending)} migration(s) not applied")


@dataclasses.dataclass
class CeleryWorkers(Ping):
    """django-health-check's worker ping, after one bounded try to reach the broker: with Redis gone the ping
    itself would keep a thread retrying the connection long after the probe gave up."""

    def run(self) -> None:
        try:
            with self.app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
        except Exception as exc:  # kombu raises the transport's own errors; any of them means no broker
            raise ServiceUnavailable("broker unreachable") from exc
        super().run()


def readiness_checks() -> list[HealthCheck]:
    checks: list[HealthCheck] = [Database(), MigrationsApplied()]
    if settings.REDIS_URL:
        # Without Redis (the embedded default) there is neither a broker nor a worker to ask.
        checks.append(Redis(client_factory=lambda: AsyncRedis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)))
        checks.append(CeleryWorkers(timeout=datetime.timedelta(seconds=2), limit=1))
    return checks


async def _run(checks: list[HealthCheck]) -> list[HealthCheckResult]:
    return await asyncio.gather(*(check.get_result() for check in checks))


def _name(check: HealthCheck) -> str:
    return {"Database": "database", "MigrationsApplied": "migrations", "Redis": "redis", "CeleryWorkers": "celery"}.get(
        type(check).__name__, type(check).__name__
    )


def healthz(request: HttpRequest) -> JsonResponse:
    response = JsonResponse({"status": "ok", "version": server_version()})
    add_never_cache_headers(response)
    return response


def readyz(request: HttpRequest) -> JsonResponse:
    results = async_to_sync(_run)(readiness_checks())
    failed = [r for r in results if r.error]
    body = {
        "status": "unavailable" if failed else "ready",
        "version": server_version(),
        "checks": {_name(r.check): "ok" if not r.error else str(r.error) for r in results},
    }
    response = JsonResponse(body, status=503 if failed else 200, json_dumps_params={"ensure_ascii": False})
    if failed:
        response["Retry-After"] = "10"
    add_never_cache_headers(response)
    return response
