from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "server.notices"
    label = "notices"
    verbose_name = "お知らせ・規約・アプリのバージョン"
