from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from server.common.actor import Actor
from server.institutions.actions import do_create_institution
from server.institutions.models import Institution


class Command(BaseCommand):
    help = "Create an institution (S01) from its 10-digit 機関コード and name."

    def add_arguments(self, parser):
        parser.add_argument("--code", required=True)
        parser.add_argument("--name", required=True)

    def handle(self, *args, code: str, name: str, **options):
        if Institution.objects.filter(code=code).exists():
            raise CommandError(f"機関コード {code} は既に登録されています。")
        try:
            institution = do_create_institution(code=code, name=name, actor=Actor.cli("manage.py create_institution"))
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"医療機関を登録しました: {institution.code} {institution.name}")
