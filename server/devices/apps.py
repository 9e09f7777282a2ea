from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "server.devices"
    label = "devices"
