from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: health and readiness, Prometheus metrics, structured logs, backup and restore (issue 16)."""

    name = "server.ops"
    label = "ops"

    def ready(self) -> None:
        from server.ops import celery_signals  # noqa: F401 - connects the task counters and log context
