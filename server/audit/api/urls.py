from django.urls import path

from server.audit.api import views

urlpatterns = [
    path("audit/events", views.AuditEventListView.as_view(), name="api-audit-events"),
    path("audit/events.csv", views.AuditEventExportView.as_view(), name="api-audit-events-csv"),
]
