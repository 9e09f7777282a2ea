from django.urls import path

from server.sandbox.api.views import ChallengeView, QualificationView

urlpatterns = [
    path("challenges", ChallengeView.as_view(), name="sandbox-challenges"),
    path("qualifications", QualificationView.as_view(), name="sandbox-qualifications"),
]
