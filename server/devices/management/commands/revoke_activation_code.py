from django.core.management.base import BaseCommand, CommandError

from server.common.actor import Actor
from server.devices.actions import do_revoke_activation_code
from server.devices.models import ActivationCode


class Command(BaseCommand):
    help = "Revoke an unused activation code (S01) by the id shown by list_activation_codes."

    def add_arguments(self, parser):
        parser.add_argument("code_id", type=int)
        parser.add_argument("--institution", required=True, help="機関コード (guards against a wrong id)")
        parser.add_argument("--by", default="", help="who revokes it (username), for the audit trail")

    def handle(self, *args, code_id: int, institution: str, by: str, **options):
        code = ActivationCode.objects.filter(pk=code_id, institution__code=institution).first()
        if code is None:
            raise CommandError(f"アクティベーションコードが見つかりません: {institution} #{code_id}")
        if code.used_at is not None:
            raise CommandError("このアクティベーションコードは既に使用されています。")
        do_revoke_activation_code(code, actor=Actor.cli(by or "manage.py revoke_activation_code"))
        self.stdout.write(f"アクティベーションコード #{code.pk} を無効化しました。")
