from django.urls import path

from server.results.api import views

urlpatterns = [
    path("results/batch", views.ResultBatchView.as_view(), name="api-results-batch"),
    path("results", views.ResultListView.as_view(), name="api-results"),
    path("results/<uuid:result_id>", views.ResultDetailView.as_view(), name="api-result-detail"),
]
