from django.urls import path

from server.sandbox.api.views import (
    ChallengeView,
    QualificationView,
    RegistrationDetailView,
    RegistrationsView,
    RegistrationTermsView,
)

urlpatterns = [
    path("challenges", ChallengeView.as_view(), name="sandbox-challenges"),
    path("qualifications", QualificationView.as_view(), name="sandbox-qualifications"),
    path("registrations", RegistrationsView.as_view(), name="sandbox-registrations"),
    path("registrations/terms", RegistrationTermsView.as_view(), name="sandbox-registration-terms"),
    path("registrations/<uuid:registration_id>", RegistrationDetailView.as_view(), name="sandbox-registration"),
]
