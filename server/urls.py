from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

api_v1 = [
    path("", include("server.institutions.api.urls")),
    path("", include("server.devices.api.urls")),
    path("", include("server.results.api.urls")),
    path("", include("server.notices.api.urls")),
    path("", include("server.audit.api.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("sandbox/onshi/v1/", include("server.sandbox.api.urls")),
    path("console/", include("admin_ui.urls")),
]
