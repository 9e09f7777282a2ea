"""Helpers shared by the publish_* commands: JST date/time arguments and ValidationError → CommandError."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from server.common.jst import JST


def parse_moment(value: str | None, option: str) -> datetime.datetime | None:
    """ISO 8601 date or date-time; without an offset it is taken as JST (the clinic's time)."""
    if value is None:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} は 2026-04-01 や 2026-04-01T09:00+09:00 の形式で指定してください。") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=JST)


def command_error(exc: ValidationError) -> CommandError:
    if hasattr(exc, "error_dict"):
        return CommandError(" ".join(m for messages in exc.message_dict.values() for m in messages))
    return CommandError(" ".join(exc.messages))


class VersionOptionMixin:
    """Django gives every command ``--version`` (its own version); these commands need it for the published one."""

    def create_parser(self, prog_name: str, subcommand: str, **kwargs):
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)
