from django.core.management.base import BaseCommand, CommandError

from server.devices.models import ActivationCode
from server.institutions.models import Institution


class Command(BaseCommand):
    help = (
        "List an institution's activation codes (S01): id, state, device name, expiry. Codes themselves are not kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--institution", required=True, help="機関コード")
        parser.add_argument("--all", action="store_true", help="also used, revoked and expired codes")

    def handle(self, *args, institution: str, all: bool, **options):
        found = Institution.objects.filter(code=institution).first()
        if found is None:
            raise CommandError(f"機関コード {institution} の医療機関は登録されていません。")
        codes = ActivationCode.objects.filter(institution=found).select_related("used_by_device")
        for code in codes:
            if not all and code.state != "valid":
                continue
            used_by = f" device={code.used_by_device_id}" if code.used_by_device_id else ""
            self.stdout.write(
                f"{code.pk}\t{code.state}\t{code.device_name or '-'}\texpires={code.expires_at.isoformat()}"
                f"\tby={code.created_by or '-'}{used_by}"
            )
