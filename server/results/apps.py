from django.apps import AppConfig


class ResultsConfig(AppConfig):
    name = "server.results"
    label = "results"

    def ready(self) -> None:
        # Registers this app's Celery tasks in every process: actions queue them by name (server.common.tasks).
        from server.results import tasks  # noqa: F401
