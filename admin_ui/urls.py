from django.urls import path

from admin_ui import views

app_name = "console"
urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("login/", views.ConsoleLoginView.as_view(), name="login"),
    path("logout/", views.ConsoleLogoutView.as_view(), name="logout"),
    path("devices/", views.DeviceListView.as_view(), name="devices"),
    path("devices/<uuid:device_id>/retire/", views.DeviceRetireView.as_view(), name="device-retire"),
    path("results/", views.ResultListView.as_view(), name="results"),
    path("results/<uuid:result_id>/", views.ResultDetailView.as_view(), name="result-detail"),
]
