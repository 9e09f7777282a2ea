"""Base view of every signed terminal call."""

from rest_framework.views import APIView

from server.devices.authentication import DeviceSignatureAuthentication
from server.devices.models import Device
from server.devices.permissions import IsActiveDevice


class DeviceAPIView(APIView):
    authentication_classes = [DeviceSignatureAuthentication]
    permission_classes = [IsActiveDevice]

    @property
    def device(self) -> Device:
        return self.request.auth
