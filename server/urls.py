from csp.decorators import csp_exempt
from django.urls import include, path, re_path

from server.common.errors import api_not_found
from server.common.schema import SchemaDocsView, SchemaView
from server.ops import urls as ops_urls

api_v1 = [
    path("", include("server.institutions.api.urls")),
    path("", include("server.devices.api.urls")),
    path("", include("server.results.api.urls")),
    path("", include("server.notices.api.urls")),
    path("", include("server.audit.api.urls")),
    path("", include(ops_urls.api_urlpatterns)),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    # Swagger UI runs its own inline script and assets: the console's Content-Security-Policy would stop it.
    path("api/docs/", csp_exempt()(SchemaDocsView.as_view(url_name="schema")), name="api-docs"),
    path("sandbox/onshi/v1/", include("server.sandbox.api.urls")),
    path("console/", include("admin_ui.urls")),
    path("", include(ops_urls.urlpatterns)),
    # Last: whatever else is asked under the JSON prefixes answers 404 not_found as JSON (no HTML, no redirect).
    re_path(r"^(?:api|sandbox)(?:/|$)", api_not_found, name="api-not-found"),
]

# Japanese error pages in the console's style; JSON envelopes under /api/ and /sandbox/ (admin_ui/errors.py).
handler400 = "server.common.errors.bad_request"
handler403 = "admin_ui.errors.permission_denied"
handler404 = "admin_ui.errors.page_not_found"
handler500 = "admin_ui.errors.server_error"
