from django.core.management.base import BaseCommand, CommandError

from server.common.actor import Actor
from server.institutions.actions import do_unlock_app_account
from server.institutions.models import AppAccount


class Command(BaseCommand):
    help = "Lift the lockout (S05) of an app account now: IT's way out before the 30 minutes have passed."

    def add_arguments(self, parser):
        parser.add_argument("--institution", required=True, help="機関コード")
        parser.add_argument("--account-id", required=True)
        parser.add_argument("--by", default="", help="who unlocks it (username), for the audit trail")

    def handle(self, *args, institution: str, account_id: str, by: str, **options):
        account = AppAccount.objects.filter(institution__code=institution, account_id=account_id).first()
        if account is None:
            raise CommandError(f"アプリアカウントが見つかりません: {institution} / {account_id}")
        was_locked = account.is_locked()
        do_unlock_app_account(account, actor=Actor.cli(by or "manage.py unlock_app_account"))
        state = "ロックを解除しました" if was_locked else "ロックされていませんでした（失敗回数を0に戻しました）"
        self.stdout.write(f"{account.institution.code} / {account.account_id}: {state}")
