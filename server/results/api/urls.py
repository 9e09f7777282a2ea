from django.urls import path

from server.results.api import views

urlpatterns = [
    path("results/batch", views.ResultBatchView.as_view(), name="api-results-batch"),
    path("results", views.ResultListView.as_view(), name="api-results"),
    path("results/exports", views.ResultExportCreateView.as_view(), name="api-results-exports"),
    path("results/exports/<uuid:export_id>", views.ResultExportStatusView.as_view(), name="api-results-export"),
    path(
        "results/exports/<uuid:export_id>/download",
        views.ResultExportDownloadView.as_view(),
        name="api-results-export-download",
    ),
    path("results/<uuid:result_id>", views.ResultDetailView.as_view(), name="api-result-detail"),
    # The console's (session of a manager / IT user) side of the same exports.
    path("console/results/exports", views.ConsoleResultExportCreateView.as_view(), name="api-console-results-exports"),
    path(
        "console/results/exports/<uuid:export_id>",
        views.ConsoleResultExportStatusView.as_view(),
        name="api-console-results-export",
    ),
    path(
        "console/results/exports/<uuid:export_id>/download",
        views.ConsoleResultExportDownloadView.as_view(),
        name="api-console-results-export-download",
    ),
]
