"""Sandbox endpoints (N03): thin; the work is in server.sandbox.query."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils import json as drf_json

from server.common.schema import SIGNED_ERRORS, error_response, with_server_time
from server.devices.api.base import DeviceAPIView
from server.sandbox.api.serializers import (
    ChallengeSerializer,
    QualificationAnswerSerializer,
    QualificationQuerySerializer,
    RegistrationRequestSerializer,
    RegistrationSerializer,
    RegistrationTermsSerializer,
    plain_query_data,
)
from server.sandbox.error_codes import ERRORS, fail
from server.sandbox.models import RegistrationRequest
from server.sandbox.query import QualificationQuery, answer_qualification_query, issue_challenge, request_registration
from server.sandbox.registration_terms import registration_terms


def _plain_errors(errors: Any) -> dict[str, list[str]]:
    """DRF's nested ErrorDetail structure as {field: [message, ...]}."""
    if isinstance(errors, dict):
        return {str(k): [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in errors.items()}
    return {"non_field_errors": [str(m) for m in errors]}


def _validated(request: Request, serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
    """The body through ``serializer_class``; anything malformed (JSON, shape, base64) is the coded 6301."""
    try:
        data = request.data
    except exceptions.ParseError:
        fail("malformed_request")
    if not isinstance(data, dict):
        fail("malformed_request")
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        fail("malformed_request", _plain_errors(serializer.errors))
    return serializer


def _json_body(request: Request) -> Any:
    """The decoded body of an everyday ``application/json`` request, like DRF's JSONParser (UTF-8, no NaN or
    Infinity), from the bytes the signature check has already read, without DRF's parser selection; None for anything
    else or any decoding error, which ``_validated`` then answers through ``request.data`` (415, malformed_request)."""
    if request.content_type != "application/json":
        return None
    try:
        return drf_json.loads(request._request.body.decode("utf-8"), parse_constant=drf_json.strict_constant)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError included
        return None


def _registration_body(registration: RegistrationRequest) -> dict[str, Any]:
    return with_server_time({"registration_id": str(registration.pk), "status": registration.status})


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
            400: error_response(*sorted(entry.code for entry in ERRORS.values() if entry.http_status == 400)),
            **SIGNED_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        validated = plain_query_data(_json_body(request))
        if validated is None:
            validated = _validated(request, QualificationQuerySerializer).validated_data
        document = answer_qualification_query(
            QualificationQuery(**validated),
            medical_institution_code=self.device.institution.code,
            device_id=str(self.device.pk),
        )
        return Response(with_server_time({"result": document}))


class RegistrationsView(DeviceAPIView):
    @extend_schema(
        operation_id="sandbox_registrations_create",
        summary="保険証利用登録 with a physical card (asynchronous; poll the registration)",
        request=RegistrationRequestSerializer,
        responses={
            202: RegistrationSerializer,
            400: error_response(*sorted(entry.code for entry in ERRORS.values() if entry.http_status == 400)),
            409: error_response(ERRORS["already_registered"].code),
            **SIGNED_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        serializer = _validated(request, RegistrationRequestSerializer)
        data = dict(serializer.validated_data)
        terms_accepted = data.pop("terms_accepted")
        registration = request_registration(
            QualificationQuery(**data), terms_accepted=terms_accepted, device_id=str(self.device.pk)
        )
        registration.refresh_from_db()  # the embedded default runs the task eagerly: it may be finished already
        return Response(_registration_body(registration), status=status.HTTP_202_ACCEPTED)


class RegistrationDetailView(DeviceAPIView):
    @extend_schema(
        operation_id="sandbox_registrations_retrieve",
        summary="State of a 保険証利用登録: processing / failed / completed",
        responses={
            200: RegistrationSerializer,
            404: error_response(ERRORS["registration_unknown"].code),
            **SIGNED_ERRORS,
        },
    )
    def get(self, request: Request, registration_id) -> Response:
        registration = RegistrationRequest.objects.filter(pk=registration_id, device_id=self.device.pk).first()
        if registration is None:
            fail("registration_unknown")
        return Response(_registration_body(registration))


class RegistrationTermsView(DeviceAPIView):
    @extend_schema(
        operation_id="sandbox_registrations_terms",
        summary="利用規約 of 健康保険証利用登録, shown to the patient before the card is read for it (T27)",
        responses={200: RegistrationTermsSerializer, **SIGNED_ERRORS},
    )
    def get(self, request: Request) -> Response:
        return Response(with_server_time(registration_terms()))
