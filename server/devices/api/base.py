"""Base view of every signed terminal call."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework.views import APIView

from server.common.negotiation import JsonOnlyNegotiation
from server.common.schema import error_response
from server.devices.authentication import DeviceSignatureAuthentication
from server.devices.models import Device
from server.devices.permissions import IsActiveDevice


class DeviceAPIView(APIView):
    authentication_classes = [DeviceSignatureAuthentication]
    permission_classes = [IsActiveDevice]
    content_negotiation_class = JsonOnlyNegotiation

    @property
    def device(self) -> Device:
        return self.request.auth


# Errors of any endpoint that reads a JSON body, documented next to the endpoint's own codes (S12).
BODY_400_CODES = ("validation_error", "malformed_request")
JSON_BODY_ERRORS: dict[int, OpenApiResponse] = {415: error_response("unsupported_media_type")}
SIGNED_BODY_ERRORS: dict[int, OpenApiResponse] = {**JSON_BODY_ERRORS, 413: error_response("payload_too_large")}
