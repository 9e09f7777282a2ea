from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "server.sandbox"
    label = "sandbox"
