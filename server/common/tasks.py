"""Tasks of no single app, and how actions queue tasks.

Actions queue a task by its registered name (``queue_after_commit``), never by importing it: the tasks modules import
the actions they run, and each app's ``ready()`` imports its tasks module so that the name is registered in every
process (the web process too, where the embedded default runs tasks eagerly).
"""

from __future__ import annotations

from typing import Any

from celery import current_app, shared_task
from django.db import connection, transaction


def queue_after_commit(task_name: str, *args: Any, countdown: float | None = None) -> None:
    """Queue ``task_name`` once the current transaction commits (the worker must see its rows); at once outside one."""
    transaction.on_commit(lambda: current_app.tasks[task_name].apply_async(args, countdown=countdown))


@shared_task(name="common.worker_health")
def worker_health() -> dict:
    """Answer from a worker with what it sees: proves broker, worker and database are wired together."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"database": connection.settings_dict["NAME"], "ok": True}
