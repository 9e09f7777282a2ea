"""Tasks of no single app."""

from celery import shared_task


@shared_task(name="common.worker_health")
def worker_health() -> dict:
    """Answer from a worker with what it sees: proves broker, worker and database are wired together."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"database": connection.settings_dict["NAME"], "ok": True}
