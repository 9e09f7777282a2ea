from django.apps import AppConfig


class InstitutionsConfig(AppConfig):
    name = "server.institutions"
    label = "institutions"
