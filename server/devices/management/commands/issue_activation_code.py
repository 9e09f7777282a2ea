from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from server.common.actor import Actor
from server.devices.actions import do_issue_activation_code
from server.institutions.models import Institution


class Command(BaseCommand):
    help = "Issue a single-use 12-digit activation code (S01). The code is printed once and never stored in clear."

    def add_arguments(self, parser):
        parser.add_argument("--institution", required=True, help="機関コード")
        parser.add_argument("--device-name", default=None)
        parser.add_argument("--ttl-hours", type=int, default=None)

    def handle(self, *args, institution: str, device_name: str | None, ttl_hours: int | None, **options):
        found = Institution.objects.filter(code=institution).first()
        if found is None:
            raise CommandError(f"機関コード {institution} の医療機関は登録されていません。")
        if ttl_hours is not None and ttl_hours < 1:
            raise CommandError("--ttl-hours は1以上を指定してください。")
        try:
            code, obj = do_issue_activation_code(
                found, device_name=device_name, ttl=ttl_hours, actor=Actor.cli("manage.py issue_activation_code")
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(code)
        self.stderr.write(f"有効期限: {obj.expires_at.isoformat()}（このコードは再表示できません）")
