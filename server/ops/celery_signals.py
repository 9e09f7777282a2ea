"""Celery signal handlers: task counters kept in Redis (summed over every worker, read by ``/metrics``) and the
task's id and name on every log line the task writes."""

from __future__ import annotations

import functools
from typing import Any

import redis
import structlog
from celery.signals import task_failure, task_postrun, task_prerun, task_retry, task_success
from django.conf import settings

from server.ops.metrics import CELERY_COUNTS_KEY, redis_client

log = structlog.get_logger(__name__)


@functools.cache
def _client() -> redis.Redis:
    return redis_client()


def _count(task: Any, state: str) -> None:
    if not settings.REDIS_URL or task is None:
        return  # the embedded default runs tasks in-process: nothing to add up across workers
    try:
        _client().hincrby(CELERY_COUNTS_KEY, f"{task.name}|{state}", 1)
    except redis.RedisError:
        log.warning("celery_task_count_lost", task=task.name, state=state)


@task_prerun.connect
def _bind_task(task_id: str = "", task: Any = None, **_: Any) -> None:
    structlog.contextvars.bind_contextvars(task_id=task_id, task=getattr(task, "name", ""))


@task_postrun.connect
def _unbind_task(**_: Any) -> None:
    structlog.contextvars.unbind_contextvars("task_id", "task")


@task_success.connect
def _succeeded(sender: Any = None, **_: Any) -> None:
    _count(sender, "succeeded")


@task_failure.connect
def _failed(sender: Any = None, **_: Any) -> None:
    _count(sender, "failed")


@task_retry.connect
def _retried(sender: Any = None, **_: Any) -> None:
    _count(sender, "retried")
