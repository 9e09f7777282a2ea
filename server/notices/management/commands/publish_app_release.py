from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from server.common.actor import Actor
from server.notices.actions import do_publish_app_release
from server.notices.management.commands._common import VersionOptionMixin, command_error, parse_moment


class Command(VersionOptionMixin, BaseCommand):
    help = "Publish a terminal app version with its store page (T14 shows バージョン更新 to older terminals)."

    def add_arguments(self, parser):
        parser.add_argument("--version", required=True, dest="app_version", help="PEP 440 / semver, e.g. 1.2.0")
        parser.add_argument("--store-url", required=True)
        parser.add_argument("--notes", default="")
        parser.add_argument(
            "--minimum-supported", action="store_true", help="terminals older than this version must update"
        )
        parser.add_argument("--published-at", help="ISO 8601 (JST without offset); default now")

    def handle(self, *args, app_version, store_url, notes, minimum_supported, published_at, **options):
        try:
            release = do_publish_app_release(
                version=app_version,
                store_url=store_url,
                notes=notes,
                minimum_supported=minimum_supported,
                published_at=parse_moment(published_at, "--published-at"),
                actor=Actor.cli("manage.py publish_app_release"),
            )
        except ValidationError as exc:
            raise command_error(exc) from exc
        required = "(これより古い版は更新必須)" if release.minimum_supported else ""
        self.stdout.write(f"アプリのバージョン {release.version} を公開しました{required}: {release.store_url}")
