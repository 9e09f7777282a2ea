from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from server.common.actor import Actor
from server.common.jst import format_jst
from server.institutions.models import Institution
from server.notices.actions import do_publish_notice
from server.notices.management.commands._common import command_error, parse_moment


class Command(BaseCommand):
    help = "Publish a お知らせ (S08, A05) for one institution, or for every institution without --institution."

    def add_arguments(self, parser):
        parser.add_argument("--title", required=True)
        parser.add_argument("--body", required=True, help="plain text or limited markdown")
        parser.add_argument("--url", default="", help="optional page with the details")
        parser.add_argument("--institution", help="機関コード; omit for every institution")
        parser.add_argument("--from", dest="publish_from", help="start, ISO 8601 (JST without offset); default now")
        parser.add_argument("--until", dest="publish_until", help="end (exclusive), ISO 8601; default no end")

    def handle(self, *args, title, body, url, institution, publish_from, publish_until, **options):
        target = None
        if institution:
            target = Institution.objects.filter(code=institution).first()
            if target is None:
                raise CommandError(f"機関コード {institution} の医療機関は登録されていません。")
        try:
            notice = do_publish_notice(
                title=title,
                body=body,
                url=url,
                institution=target,
                publish_from=parse_moment(publish_from, "--from"),
                publish_until=parse_moment(publish_until, "--until"),
                actor=Actor.cli("manage.py publish_notice"),
            )
        except ValidationError as exc:
            raise command_error(exc) from exc
        scope = f"{target.code} {target.name}" if target else "すべての医療機関"
        until = format_jst(notice.publish_until) if notice.publish_until else "終了なし"
        self.stdout.write(
            f"お知らせを公開しました: #{notice.pk} 「{notice.title}」 対象: {scope} "
            f"期間: {format_jst(notice.publish_from)} 〜 {until}"
        )
