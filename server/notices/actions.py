"""Writes of the notices app (S08): publication of notices, documents and app releases, and read marks.

Every publication is written to the audit trail. Validation errors are Django ``ValidationError``s keyed by field
with Japanese messages, so that the console's forms and the management commands can show them as they are.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from server.audit.actions import record_event
from server.common.actor import Actor
from server.devices.models import Device
from server.institutions.models import Institution
from server.notices.models import AppRelease, Document, Notice, NoticeRead, parse_version

TITLE_MAX = 200
_url_validator = URLValidator(schemes=["http", "https"])


def _check_url(value: str, field: str, errors: dict[str, list[str]], *, required: bool) -> None:
    if not value:
        if required:
            errors.setdefault(field, []).append("URLを入力してください。")
        return
    try:
        _url_validator(value)
    except ValidationError:
        errors.setdefault(field, []).append("URLは http:// または https:// で始まる形式で入力してください。")


def _check_title(value: str, errors: dict[str, list[str]]) -> None:
    if not value.strip():
        errors.setdefault("title", []).append("タイトルを入力してください。")
    elif len(value) > TITLE_MAX:
        errors.setdefault("title", []).append(f"タイトルは{TITLE_MAX}文字以内で入力してください。")


def do_publish_notice(
    *,
    title: str,
    body: str,
    url: str = "",
    institution: Institution | None = None,
    publish_from: datetime.datetime | None = None,
    publish_until: datetime.datetime | None = None,
    actor: Actor,
) -> Notice:
    """Publish a お知らせ for one institution (or every institution when ``institution`` is None)."""
    title, body, url = title.strip(), body.strip(), url.strip()
    publish_from = publish_from or timezone.now()
    errors: dict[str, list[str]] = {}
    _check_title(title, errors)
    if not body:
        errors.setdefault("body", []).append("本文を入力してください。")
    _check_url(url, "url", errors, required=False)
    if publish_until is not None and publish_until <= publish_from:
        errors.setdefault("publish_until", []).append("公開終了は公開開始より後の日時を指定してください。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        notice = Notice.objects.create(
            title=title,
            body=body,
            url=url,
            institution=institution,
            publish_from=publish_from,
            publish_until=publish_until,
            created_by=actor.id,
        )
        record_event(
            "notice_published",
            actor,
            institution=institution,
            objects=[notice.pk],
            detail={
                "title": title,
                "scope": institution.code if institution else "all",
                "publish_from": publish_from.isoformat(),
                "publish_until": publish_until.isoformat() if publish_until else None,
            },
        )
    return notice


def do_end_notice(notice: Notice, *, actor: Actor) -> Notice:
    """End a notice's publication now. A notice not yet started gets a window in the past, so it never shows.

    A notice that has already ended is left as it is (its recorded end stays true).
    """
    now = timezone.now()
    if notice.publish_until is not None and notice.publish_until <= now:
        return notice
    if notice.publish_from >= now:
        notice.publish_from = now - datetime.timedelta(microseconds=1)
    notice.publish_until = now
    with transaction.atomic():
        notice.save(update_fields=["publish_from", "publish_until"])
        record_event("notice_ended", actor, institution=notice.institution, objects=[notice.pk])
    return notice


def do_mark_notice_read(notice: Notice, device: Device) -> NoticeRead:
    """Mark ``notice`` read on ``device``; idempotent, and safe against concurrent retries (unique constraint)."""
    if notice.institution_id not in (None, device.institution_id):
        # The views only hand over visible notices; this keeps another institution's notice out of reach (S11).
        raise ValueError("a notice of another institution")
    read, _ = NoticeRead.objects.get_or_create(notice=notice, device=device)
    return read


def do_publish_document(
    *,
    kind: str,
    version: str,
    title: str,
    body: str,
    published_at: datetime.datetime | None = None,
    actor: Actor,
) -> Document:
    """Publish a new version of 利用規約 / 個人情報の取り扱い / ライセンス; the latest published one becomes current."""
    version, title, body = version.strip(), title.strip(), body.strip()
    errors: dict[str, list[str]] = {}
    if kind not in Document.KINDS:
        errors.setdefault("kind", []).append("種類は terms、privacy、licenses のいずれかを指定してください。")
    if not version:
        errors.setdefault("version", []).append("版を入力してください。")
    elif len(version) > 40:
        errors.setdefault("version", []).append("版は40文字以内で入力してください。")
    elif Document.objects.filter(kind=kind, version=version).exists():
        errors.setdefault("version", []).append(f"版 {version} は既に公開されています。")
    _check_title(title, errors)
    if not body:
        errors.setdefault("body", []).append("本文を入力してください。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        document = Document.objects.create(
            kind=kind,
            version=version,
            title=title,
            body=body,
            published_at=published_at or timezone.now(),
            created_by=actor.id,
        )
        record_event(
            "document_published",
            actor,
            objects=[document.pk],
            detail={"kind": kind, "version": version, "published_at": document.published_at.isoformat()},
        )
    return document


def do_publish_app_release(
    *,
    version: str,
    store_url: str,
    notes: str = "",
    minimum_supported: bool = False,
    published_at: datetime.datetime | None = None,
    actor: Actor,
) -> AppRelease:
    """Publish an app version with its store page. ``minimum_supported``: older terminals must update (T14)."""
    version, store_url = version.strip(), store_url.strip()
    errors: dict[str, list[str]] = {}
    parsed = parse_version(version)
    if parsed is None or len(version) > 40:
        errors.setdefault("version", []).append("バージョンは 1.2.3 のような形式で入力してください。")
    elif any(parse_version(v) == parsed for v in AppRelease.objects.values_list("version", flat=True)):
        errors.setdefault("version", []).append(f"バージョン {version} は既に公開されています。")
    _check_url(store_url, "store_url", errors, required=True)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        release = AppRelease.objects.create(
            version=version,
            store_url=store_url,
            notes=notes.strip(),
            minimum_supported=minimum_supported,
            published_at=published_at or timezone.now(),
            created_by=actor.id,
        )
        record_event(
            "app_release_published",
            actor,
            objects=[release.pk],
            detail={"version": version, "store_url": store_url, "minimum_supported": minimum_supported},
        )
    return release


DEFAULT_DOCUMENTS: dict[str, tuple[str, str]] = {
    Document.KIND_TERMS: (
        "利用規約",
        "この利用規約(以下「本規約」)は、マイナ資格確認アプリ(以下「本アプリ」)の利用条件を定めるものです。\n\n"
        "1. 本アプリは、医療機関等が患者の医療保険の資格確認を行うために利用します。\n"
        "2. 利用者は、本アプリを資格確認以外の目的で利用してはなりません。\n"
        "3. 利用者は、アプリアカウントのIDとパスワードを適切に管理してください。\n"
        "4. 本規約は、必要に応じて改定することがあります。改定後の規約は本アプリに表示した時点から効力を生じます。\n\n"
        "(これはデモ用の架空の文面です。)",
    ),
    Document.KIND_PRIVACY: (
        "個人情報の取り扱い",
        "本アプリにおける個人情報の取り扱いについて説明します。\n\n"
        "1. 本アプリは、資格確認のためにマイナンバーカードの利用者証明用電子証明書を読み取ります。"
        "マイナンバー(個人番号)は取得しません。\n"
        "2. 資格確認の結果は、医療機関等の業務に必要な範囲でのみ保存し、利用します。\n"
        "3. 資格確認の結果を閲覧した記録は、監査のために保存します。\n"
        "4. 暗証番号は端末にも医療機関のサーバーにも保存しません。\n\n"
        "(これはデモ用の架空の文面です。)",
    ),
    Document.KIND_LICENSES: (
        "ライセンス",
        "本アプリは、次のオープンソースソフトウェアを利用しています。\n\n"
        "- Python (PSF License)\n"
        "- Django (BSD License)\n"
        "- Django REST framework (BSD License)\n"
        "- Qt for Python / PySide6 (LGPL v3)\n"
        "- cryptography (Apache License 2.0 / BSD License)\n"
        "- pyscard (LGPL v2.1)\n\n"
        "各ライセンスの全文は、それぞれのソフトウェアの配布物を参照してください。",
    ),
}
DEFAULT_DOCUMENT_VERSION = "1.0"


def seed_default_documents(*, actor: Actor) -> list[Document]:
    """Publish version 1.0 of each document kind that has none yet (idempotent); returns the documents created."""
    created = []
    for kind, (title, body) in DEFAULT_DOCUMENTS.items():
        if Document.objects.filter(kind=kind).exists():
            continue
        created.append(
            do_publish_document(
                kind=kind, version=DEFAULT_DOCUMENT_VERSION, title=title, body=body, actor=actor
            )
        )
    return created
