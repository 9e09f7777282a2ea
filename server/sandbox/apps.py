from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "server.sandbox"
    label = "sandbox"

    def ready(self) -> None:
        # Registers this app's Celery tasks in every process: actions queue them by name (server.common.tasks).
        from server.sandbox import tasks  # noqa: F401
