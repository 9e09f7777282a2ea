from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from server.common.actor import Actor
from server.notices.actions import do_publish_document
from server.notices.management.commands._common import VersionOptionMixin, command_error, parse_moment
from server.notices.models import Document


class Command(VersionOptionMixin, BaseCommand):
    help = "Publish a new version of 利用規約 (terms), 個人情報の取り扱い (privacy) or ライセンス (licenses)."

    def add_arguments(self, parser):
        parser.add_argument("--kind", required=True, choices=Document.KINDS)
        parser.add_argument("--version", required=True, dest="doc_version", help="e.g. 1.1 or 2026-04")
        parser.add_argument("--title", required=True)
        parser.add_argument("--file", required=True, help="UTF-8 text (or limited markdown) of the document")
        parser.add_argument("--published-at", help="ISO 8601 (JST without offset); default now")

    def handle(self, *args, kind, doc_version, title, file, published_at, **options):
        try:
            body = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"ファイル {file} を UTF-8 のテキストとして読み込めません: {exc}") from exc
        try:
            document = do_publish_document(
                kind=kind,
                version=doc_version,
                title=title,
                body=body,
                published_at=parse_moment(published_at, "--published-at"),
                actor=Actor.cli("manage.py publish_document"),
            )
        except ValidationError as exc:
            raise command_error(exc) from exc
        self.stdout.write(f"{document.get_kind_display()} 版 {document.version} を公開しました。")
