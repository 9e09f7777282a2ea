from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from server.common.actor import Actor
from server.devices.actions import do_retire_device
from server.devices.models import Device


class Command(BaseCommand):
    help = "Retire a device (S04): its calls get 403 device_retired from now on; the record is kept."

    def add_arguments(self, parser):
        parser.add_argument("device_id")
        parser.add_argument("--by", required=True, help="who retires it (username)")
        parser.add_argument("--reason", required=True)

    def handle(self, *args, device_id: str, by: str, reason: str, **options):
        try:
            device = Device.objects.get(pk=device_id)
        except (Device.DoesNotExist, ValueError, ValidationError) as exc:  # a malformed UUID: ValidationError
            raise CommandError(f"端末が見つかりません: {device_id}") from exc
        do_retire_device(device, reason, actor=Actor.cli(by))
        self.stdout.write(f"端末「{device.name}」({device.pk}) を廃止しました。")
