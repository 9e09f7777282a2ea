from django.urls import path

from server.institutions.api import views

urlpatterns = [
    path("accounts/login", views.AccountLoginView.as_view(), name="api-account-login"),
    path("accounts/password", views.ChangeAccountPasswordView.as_view(), name="api-account-password"),
]
