"""Sandbox endpoints (N03): thin; the work is in server.sandbox.query."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from server.common.schema import SIGNED_ERRORS, error_response, with_server_time
from server.devices.api.base import DeviceAPIView
from server.sandbox.api.serializers import (
    ChallengeSerializer,
    QualificationAnswerSerializer,
    QualificationQuerySerializer,
)
from server.sandbox.error_codes import ERRORS, fail
from server.sandbox.query import QualificationQuery, answer_qualification_query, issue_challenge


def _plain_errors(errors: Any) -> dict[str, list[str]]:
    """DRF's nested ErrorDetail structure as {field: [message, ...]}."""
    if isinstance(errors, dict):
        return {str(k): [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in errors.items()}
    return {"non_field_errors": [str(m) for m in errors]}


class ChallengeView(DeviceAPIView):
    @extend_schema(
        operation_id="sandbox_challenges_create",
        summary="A fresh single-use challenge for the card to sign (valid 60 s)",
        request=None,
        responses={201: ChallengeSerializer, **SIGNED_ERRORS},
    )
    def post(self, request: Request) -> Response:
        challenge = issue_challenge(device_id=str(self.device.pk))
        return Response(with_server_time(challenge.as_dict()), status=status.HTTP_201_CREATED)


class QualificationView(DeviceAPIView):
    @extend_schema(
        operation_id="sandbox_qualifications_create",
        summary="Qualification query with the card's certificate (and signature over the challenge)",
        request=QualificationQuerySerializer,
        responses={
            200: QualificationAnswerSerializer,
            400: error_response(*sorted(entry.code for entry in ERRORS.values())),
            **SIGNED_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        try:
            data = request.data
        except exceptions.ParseError:
            fail("malformed_request")
        if not isinstance(data, dict):
            fail("malformed_request")
        serializer = QualificationQuerySerializer(data=data)
        if not serializer.is_valid():
            fail("malformed_request", _plain_errors(serializer.errors))
        document = answer_qualification_query(
            QualificationQuery(**serializer.validated_data),
            medical_institution_code=self.device.institution.code,
            device_id=str(self.device.pk),
        )
        return Response(with_server_time({"result": document}))
