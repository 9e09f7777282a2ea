from django.urls import path

from admin_ui import views

app_name = "console"
urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("login/", views.ConsoleLoginView.as_view(), name="login"),
    path("logout/", views.ConsoleLogoutView.as_view(), name="logout"),
    path("devices/", views.DeviceListView.as_view(), name="devices"),
    path("devices/<uuid:device_id>/retire/", views.DeviceRetireView.as_view(), name="device-retire"),
    path("devices/<uuid:device_id>/rename/", views.DeviceRenameView.as_view(), name="device-rename"),
    path("devices/activation-codes/", views.ActivationCodeListView.as_view(), name="activation-codes"),
    path("devices/activation-codes/new/", views.ActivationCodeIssueView.as_view(), name="activation-code-issue"),
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
    path("results/export.csv", views.ResultExportView.as_view(), name="results-export"),
    path("results/<uuid:result_id>/", views.ResultDetailView.as_view(), name="result-detail"),
]
