from django.urls import path

from server.devices.api import views

urlpatterns = [
    path("devices/register", views.RegisterDeviceView.as_view(), name="api-device-register"),
    path("devices/me", views.DeviceMeView.as_view(), name="api-device-me"),
    path("devices/me/deregister", views.DeregisterDeviceView.as_view(), name="api-device-deregister"),
    path("devices/me/heartbeat", views.HeartbeatView.as_view(), name="api-device-heartbeat"),
    path("ping", views.PingView.as_view(), name="api-ping"),
]
