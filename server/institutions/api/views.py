"""Terminal-facing account endpoints, signed by a registered terminal: T13 システムログイン and T09 password change (S05)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from server.common.api import DeviceAPIView
from server.common.schema import (
    BODY_400_CODES,
    SIGNATURE_CODES,
    SIGNED_BODY_ERRORS,
    SIGNED_ERRORS,
    error_response,
    with_server_time,
)
from server.institutions.actions import do_change_app_account_password, do_login_app_account
from server.institutions.api.serializers import (
    ChangePasswordSerializer,
    LoggedInSerializer,
    LoginSerializer,
    PasswordChangedSerializer,
)


class ChangeAccountPasswordView(DeviceAPIView):
    @extend_schema(
        operation_id="accounts_password",
        summary="Change the app account's password (T09) of the calling terminal's institution",
        request=ChangePasswordSerializer,
        responses={
            200: PasswordChangedSerializer,
            400: error_response(*BODY_400_CODES),
            401: error_response("invalid_credentials", *SIGNATURE_CODES),
            403: SIGNED_ERRORS[403],
            423: error_response("account_locked"),
            **SIGNED_BODY_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        data = self.validated(ChangePasswordSerializer)
        account = do_change_app_account_password(
            self.device.institution,
            data["account_id"],
            data["current_password"],
            data["new_password"],
            actor=self.actor.as_account(data["account_id"]),
        )
        body = {"account_id": account.account_id, "password_changed_at": account.password_changed_at.isoformat()}
        return Response(with_server_time(body))


class AccountLoginView(DeviceAPIView):
    @extend_schema(
        operation_id="accounts_login",
        summary="システムログイン (T13): check the app account of the calling terminal's institution",
        request=LoginSerializer,
        responses={
            200: LoggedInSerializer,
            400: error_response(*BODY_400_CODES),
            401: error_response("invalid_credentials", *SIGNATURE_CODES),
            403: SIGNED_ERRORS[403],
            423: error_response("account_locked"),
            **SIGNED_BODY_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        data = self.validated(LoginSerializer)
        institution = self.device.institution
        account = do_login_app_account(
            institution, data["account_id"], data["password"], actor=self.actor.as_account(data["account_id"])
        )
        body = {
            "account_id": account.account_id,
            "institution_code": institution.code,
            "institution_name": institution.name,
        }
        return Response(with_server_time(body))
