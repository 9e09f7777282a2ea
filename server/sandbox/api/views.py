"""Sandbox endpoints (N03): thin; the work is in server.sandbox.query."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from server.common.api import DeviceAPIView
from server.common.schema import SIGNED_ERRORS, error_response, with_server_time
from server.sandbox.api.serializers import (
    ChallengeSerializer,
    QualificationAnswerSerializer,
    QualificationQuerySerializer,
    RegistrationRequestSerializer,
    RegistrationSerializer,
    RegistrationTermsSerializer,
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


class SandboxAPIView(DeviceAPIView):
    """The national service's conventions: anything malformed (JSON, shape, base64) is its coded 6301."""

    def validated(self, serializer_class: type[serializers.Serializer], data: Any = None) -> dict[str, Any]:
        try:
            if data is None and not isinstance(self.request.data, dict):
                fail("malformed_request")
            return super().validated(serializer_class, data)
        except exceptions.ParseError:
            fail("malformed_request")
        except exceptions.ValidationError as exc:
            fail("malformed_request", _plain_errors(exc.detail))


def _registration_body(registration: RegistrationRequest) -> dict[str, Any]:
    return with_server_time({"registration_id": str(registration.pk), "status": registration.status})


class ChallengeView(SandboxAPIView):
    @extend_schema(
        operation_id="sandbox_challenges_create",
        summary="A fresh single-use challenge for the card to sign (valid 60 s)",
        request=None,
        responses={201: ChallengeSerializer, **SIGNED_ERRORS},
    )
    def post(self, request: Request) -> Response:
        challenge = issue_challenge(device_id=str(self.device.pk))
        return Response(with_server_time(challenge.as_dict()), status=status.HTTP_201_CREATED)


class QualificationView(SandboxAPIView):
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
        document = answer_qualification_query(
            QualificationQuery(**self.validated(QualificationQuerySerializer)),
            medical_institution_code=self.device.institution.code,
            device_id=str(self.device.pk),
        )
        return Response(with_server_time({"result": document}))


class RegistrationsView(SandboxAPIView):
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
        data = dict(self.validated(RegistrationRequestSerializer))
        terms_accepted = data.pop("terms_accepted")
        registration = request_registration(
            QualificationQuery(**data), terms_accepted=terms_accepted, device_id=str(self.device.pk)
        )
        registration.refresh_from_db()  # the embedded default runs the task eagerly: it may be finished already
        return Response(_registration_body(registration), status=status.HTTP_202_ACCEPTED)


class RegistrationDetailView(SandboxAPIView):
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


class RegistrationTermsView(SandboxAPIView):
    @extend_schema(
        operation_id="sandbox_registrations_terms",
        summary="利用規約 of 健康保険証利用登録, shown to the patient before the card is read for it (T27)",
        responses={200: RegistrationTermsSerializer, **SIGNED_ERRORS},
    )
    def get(self, request: Request) -> Response:
        return Response(with_server_time(registration_terms()))
