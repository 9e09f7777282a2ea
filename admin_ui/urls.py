from django.urls import path

from admin_ui import devices, exports, publishing, staff, views

app_name = "console"
urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("login/", views.ConsoleLoginView.as_view(), name="login"),
    path("logout/", views.ConsoleLogoutView.as_view(), name="logout"),
    path("login/otp/", staff.TotpVerifyView.as_view(), name="otp-verify"),
    path("login/otp/setup/", staff.TotpSetupView.as_view(), name="otp-setup"),
    path("account/security/", staff.AccountSecurityView.as_view(), name="account-security"),
    path("devices/", views.DeviceListView.as_view(), name="devices"),
    path("devices/retire/", devices.DeviceBulkRetireView.as_view(), name="devices-retire"),
    path("devices/<uuid:device_id>/", devices.DeviceDetailView.as_view(), name="device-detail"),
    path("devices/<uuid:device_id>/retire/", views.DeviceRetireView.as_view(), name="device-retire"),
    path("devices/<uuid:device_id>/rename/", views.DeviceRenameView.as_view(), name="device-rename"),
    path("devices/activation-codes/", views.ActivationCodeListView.as_view(), name="activation-codes"),
    path("devices/activation-codes/new/", views.ActivationCodeIssueView.as_view(), name="activation-code-issue"),
    path("devices/activation-codes/revoke/", devices.ActivationCodeBulkRevokeView.as_view(), name="activation-codes-revoke"),
    path(
        "devices/activation-codes/<int:code_id>/revoke/",
        views.ActivationCodeRevokeView.as_view(),
        name="activation-code-revoke",
    ),
    path("accounts/", views.AccountListView.as_view(), name="accounts"),
    path("accounts/new/", views.AccountCreateView.as_view(), name="account-create"),
    path("accounts/<int:account_pk>/password/", views.AccountPasswordView.as_view(), name="account-password"),
    path("accounts/<int:account_pk>/unlock/", views.AccountUnlockView.as_view(), name="account-unlock"),
    path("audit/", views.AuditListView.as_view(), name="audit"),
    path("audit/export.csv", views.AuditExportView.as_view(), name="audit-export"),
    path("results/", views.ResultListView.as_view(), name="results"),
    path("results/export/", exports.ResultExportView.as_view(), name="results-export"),
    path("results/exports/<uuid:export_id>/", exports.ResultExportStatusView.as_view(), name="results-export-status"),
    path(
        "results/exports/<uuid:export_id>/download/",
        exports.ResultExportDownloadView.as_view(),
        name="results-export-download",
    ),
    path("results/<uuid:result_id>/", views.ResultDetailView.as_view(), name="result-detail"),
    path("results/<uuid:result_id>/print/", views.ResultPrintView.as_view(), name="result-print"),
    # A05 publishing (IT)
    path("publishing/notices/", publishing.NoticeListView.as_view(), name="notices"),
    path("publishing/notices/new/", publishing.NoticeCreateView.as_view(), name="notice-create"),
    path("publishing/notices/<int:notice_id>/end/", publishing.NoticeEndView.as_view(), name="notice-end"),
    path("publishing/documents/", publishing.DocumentListView.as_view(), name="documents"),
    path("publishing/documents/new/", publishing.DocumentCreateView.as_view(), name="document-create"),
    path("publishing/releases/", publishing.AppReleaseListView.as_view(), name="releases"),
    path("publishing/releases/new/", publishing.AppReleaseCreateView.as_view(), name="release-create"),
    # A01 console users (利用者管理)
    path("staff/", staff.StaffListView.as_view(), name="staff"),
    path("staff/new/", staff.StaffCreateView.as_view(), name="staff-create"),
    path("staff/<int:membership_id>/", staff.StaffEditView.as_view(), name="staff-edit"),
    path("staff/<int:membership_id>/password/", staff.StaffPasswordView.as_view(), name="staff-password"),
    path("staff/<int:membership_id>/active/", staff.StaffActiveView.as_view(), name="staff-active"),
    path("staff/<int:membership_id>/totp-reset/", staff.StaffTotpResetView.as_view(), name="staff-totp-reset"),
]
