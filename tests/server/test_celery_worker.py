"""A real worker process takes tasks from Redis and works on the test database (S10 plumbing)."""

import pytest

from server.common.tasks import worker_health


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_on_the_test_database(celery_worker_process, settings):
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    assert settings.CELERY_TASK_ALWAYS_EAGER is False
    answer = worker_health.delay().get(timeout=30)
    from django.db import connection

    assert answer == {"database": connection.settings_dict["NAME"], "ok": True}
