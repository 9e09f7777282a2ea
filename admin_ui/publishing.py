"""A05 publishing (IT): お知らせ of this institution, new versions of 利用規約 / 個人情報の取り扱い / ライセンス (with a
preview before they go out) and terminal app releases. Every write goes through server.notices.actions, which audits.

Documents and app releases are server-wide (every institution on this server sees the same current version);
お知らせ published here are for this institution only (global ones come from ``publish_notice`` on the server).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.generic import FormView, TemplateView, View

from admin_ui.access import ROLE_IT, StaffRequiredMixin
from server.notices.actions import do_end_notice, do_publish_app_release, do_publish_document, do_publish_notice
from server.notices.models import AppRelease, Document, Notice

PER_PAGE = 20
_DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _add_action_errors(form: forms.Form, error: ValidationError) -> None:
    """The actions report field errors keyed by field name; put each one under its field (or the form)."""
    for field, messages_ in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)


class NoticeForm(forms.Form):
    title = forms.CharField(label="タイトル", max_length=200, error_messages={"required": "タイトルを入力してください。"})
    body = forms.CharField(
        label="本文", widget=forms.Textarea(attrs={"rows": 8}), error_messages={"required": "本文を入力してください。"}
    )
    url = forms.CharField(label="詳細URL（任意）", required=False, max_length=500)
    publish_from = forms.DateTimeField(
        label="公開開始",
        widget=_DATETIME_WIDGET,
        error_messages={"required": "公開開始日時を入力してください。", "invalid": "日時を正しく入力してください。"},
    )
    publish_until = forms.DateTimeField(
        label="公開終了（任意）",
        required=False,
        widget=_DATETIME_WIDGET,
        help_text="空欄の場合は、掲載を終了するまで表示されます。",
        error_messages={"invalid": "日時を正しく入力してください。"},
    )


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label="種類", choices=Document.KIND_CHOICES)
    version = forms.CharField(
        label="版", max_length=40, help_text="例: 1.1", error_messages={"required": "版を入力してください。"}
    )
    title = forms.CharField(label="タイトル", max_length=200, error_messages={"required": "タイトルを入力してください。"})
    body = forms.CharField(
        label="本文", widget=forms.Textarea(attrs={"rows": 14}), error_messages={"required": "本文を入力してください。"}
    )


class AppReleaseForm(forms.Form):
    version = forms.CharField(
        label="バージョン", max_length=40, help_text="例: 1.2.3", error_messages={"required": "バージョンを入力してください。"}
    )
    store_url = forms.CharField(
        label="ストアページURL", max_length=500, error_messages={"required": "URLを入力してください。"}
    )
    notes = forms.CharField(label="更新内容（任意）", required=False, widget=forms.Textarea(attrs={"rows": 4}))
    minimum_supported = forms.BooleanField(
        label="これより古いバージョンの端末には更新を必須にする（最低サポートバージョン）", required=False
    )


class PublishingMixin(StaffRequiredMixin):
    allowed_roles = (ROLE_IT,)
    nav_section = "publishing"
    publishing_tab = ""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["publishing_tab"] = self.publishing_tab
        return context


# --- お知らせ ---


class NoticeListView(PublishingMixin, TemplateView):
    template_name = "admin_ui/notices.html"
    publishing_tab = "notices"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        notices = Notice.objects.for_institution(self.institution.pk).with_read_count().order_by("-publish_from", "-id")
        page = Paginator(notices, PER_PAGE).get_page(self.request.GET.get("page"))
        rows = [
            {"notice": notice, "state": notice.state(now), "state_label": Notice.STATE_LABELS[notice.state(now)]}
            for notice in page.object_list
        ]
        context.update(page=page, rows=rows, querystring="")
        return context


class NoticeCreateView(PublishingMixin, FormView):
    template_name = "admin_ui/notice_form.html"
    form_class = NoticeForm
    publishing_tab = "notices"

    def get_initial(self) -> dict[str, Any]:
        return {"publish_from": timezone.localtime().replace(second=0, microsecond=0)}

    def form_valid(self, form: NoticeForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            notice = do_publish_notice(
                title=data["title"],
                body=data["body"],
                url=data["url"],
                institution=self.institution,
                publish_from=data["publish_from"],
                publish_until=data["publish_until"],
                actor=self.actor,
            )
        except ValidationError as error:
            _add_action_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"お知らせ「{notice.title}」を登録しました。")
        return HttpResponseRedirect(reverse("console:notices"))


class NoticeEndView(PublishingMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Only this institution's own notices: the global ones belong to the server's operator.
        notice = get_object_or_404(Notice, pk=kwargs["notice_id"], institution=self.institution)
        if notice.state() == Notice.STATE_ENDED:
            messages.info(request, f"お知らせ「{notice.title}」はすでに公開を終了しています。")
        else:
            do_end_notice(notice, actor=self.actor)
            messages.success(request, f"お知らせ「{notice.title}」の掲載を終了しました。")
        return HttpResponseRedirect(reverse("console:notices"))


# --- 利用規約 / 個人情報の取り扱い / ライセンス ---


class DocumentListView(PublishingMixin, TemplateView):
    template_name = "admin_ui/documents.html"
    publishing_tab = "documents"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        current = {kind: Document.objects.current(kind, now) for kind in Document.KINDS}
        current_ids = {document.pk for document in current.values() if document is not None}
        documents = Document.objects.order_by("kind", "-published_at", "-id")
        context.update(
            current=[(kind, label, current[kind]) for kind, label in Document.KIND_CHOICES],
            documents=[(document, document.pk in current_ids) for document in documents],
        )
        return context


class DocumentCreateView(PublishingMixin, FormView):
    """Two steps: 「プレビュー」 shows the text as it will read, then 「公開する」 publishes exactly what was shown."""

    template_name = "admin_ui/document_form.html"
    form_class = DocumentForm
    publishing_tab = "documents"

    def get_initial(self) -> dict[str, Any]:
        kind = self.request.GET.get("kind")
        return {"kind": kind} if kind in Document.KINDS else {}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        kind = context["form"]["kind"].value() or Document.KIND_TERMS
        context["current_document"] = Document.objects.current(kind) if kind in Document.KINDS else None
        return context

    def form_valid(self, form: DocumentForm) -> HttpResponse:
        data = form.cleaned_data
        step = self.request.POST.get("step")
        if step == "edit":  # back from the preview to the filled-in form
            return self.render_to_response(self.get_context_data(form=form))
        if step != "publish":
            if Document.objects.filter(kind=data["kind"], version=data["version"].strip()).exists():
                form.add_error("version", f"版 {data['version'].strip()} は既に公開されています。")
                return self.form_invalid(form)
            preview = {**data, "kind_label": dict(Document.KIND_CHOICES)[data["kind"]]}
            return self.render_to_response(self.get_context_data(form=form, preview=preview))
        try:
            document = do_publish_document(
                kind=data["kind"],
                version=data["version"],
                title=data["title"],
                body=data["body"],
                actor=self.actor,
            )
        except ValidationError as error:
            _add_action_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"{document.get_kind_display()}の版 {document.version} を公開しました。")
        return HttpResponseRedirect(reverse("console:documents"))


# --- the terminal app's releases ---


class AppReleaseListView(PublishingMixin, TemplateView):
    template_name = "admin_ui/releases.html"
    publishing_tab = "releases"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        releases = list(AppRelease.objects.order_by("-published_at", "-id"))
        published = [r for r in releases if r.published_at <= now]
        # What the terminal API answers (server.notices.filtersets.check_app_release): the highest version, and the
        # highest one marked minimum supported.
        latest = max(published, key=lambda r: r.parsed_version, default=None)
        minimum = max((r for r in published if r.minimum_supported), key=lambda r: r.parsed_version, default=None)
        context.update(releases=releases, latest=latest, minimum=minimum)
        return context


class AppReleaseCreateView(PublishingMixin, FormView):
    template_name = "admin_ui/release_form.html"
    form_class = AppReleaseForm
    publishing_tab = "releases"

    def form_valid(self, form: AppReleaseForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            release = do_publish_app_release(
                version=data["version"],
                store_url=data["store_url"],
                notes=data["notes"],
                minimum_supported=data["minimum_supported"],
                actor=self.actor,
            )
        except ValidationError as error:
            _add_action_errors(form, error)
            return self.form_invalid(form)
        note = "（これより古い端末は更新が必須になります）" if release.minimum_supported else ""
        messages.success(self.request, f"アプリのバージョン {release.version} を公開しました。{note}")
        return HttpResponseRedirect(reverse("console:releases"))
