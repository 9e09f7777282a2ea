"""bench/auth.py's comparison point: the product's heartbeat view and work, behind DRF's ``TokenAuthentication`` (what
a Django team would pick instead of signatures): the token's user is named after its device."""

from __future__ import annotations

from functools import cached_property

from django.urls import path
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import IsAuthenticated

from server.common.actor import Actor
from server.devices.api.views import HeartbeatView
from server.devices.models import Device
from server.urls import urlpatterns as product_urls


class TokenHeartbeatView(HeartbeatView):
    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    @cached_property
    def device(self) -> Device:
        return Device.objects.select_related("institution").get(pk=self.request.user.get_username())

    @cached_property
    def actor(self) -> Actor:
        return Actor.device(self.request, self.device.pk)


urlpatterns = [path("bench/token/heartbeat", TokenHeartbeatView.as_view()), *product_urls]
