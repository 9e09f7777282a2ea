from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from server.common.actor import Actor
from server.institutions.actions import do_create_app_account
from server.institutions.models import Institution


class Command(BaseCommand):
    help = "Create the app account (ID + password, rule of T09) that terminals use to register."

    def add_arguments(self, parser):
        parser.add_argument("--institution", required=True, help="機関コード")
        parser.add_argument("--account-id", required=True)
        parser.add_argument("--password", required=True)

    def handle(self, *args, institution: str, account_id: str, password: str, **options):
        found = Institution.objects.filter(code=institution).first()
        if found is None:
            raise CommandError(f"機関コード {institution} の医療機関は登録されていません。")
        try:
            account = do_create_app_account(found, account_id, password, actor=Actor.cli("manage.py create_app_account"))
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"アプリアカウントを作成しました: {found.code} / {account.account_id}")
