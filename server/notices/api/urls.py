from django.urls import path

from server.notices.api import views

urlpatterns = [
    path("notices", views.NoticeListView.as_view(), name="api-notices"),
    path("notices/<int:notice_id>", views.NoticeDetailView.as_view(), name="api-notice-detail"),
    path("notices/<int:notice_id>/read", views.NoticeReadView.as_view(), name="api-notice-read"),
    path("documents/<str:kind>", views.DocumentView.as_view(), name="api-document"),
    path("app-release/latest", views.AppReleaseLatestView.as_view(), name="api-app-release-latest"),
]
