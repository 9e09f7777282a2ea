from django.urls import path

from server.ops import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics, name="metrics"),
]
api_urlpatterns = [path("version", views.VersionView.as_view(), name="server-version")]
