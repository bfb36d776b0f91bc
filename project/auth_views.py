"""Sign-in with throttling against password guessing, shared by the sign-in page and the
admin's login (project/urls.py gives the admin the same form): the counters and rates are
project.signin_throttle's, on the shared Redis cache.
"""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.decorators import method_decorator

from . import signin_throttle


class ThrottledFormMixin:
    """Counts every submitted attempt before the password is looked at; over a budget the
    form fails with the refusal's sentence and authenticate() is never called."""

    def clean(self):
        raw = self.data.get(self.add_prefix("username"), "")
        refusal = signin_throttle.password_attempt(
            self.request, username=raw if isinstance(raw, str) else ""
        )
        if refusal is not None:
            raise ValidationError(refusal.message, code="throttled")
        return super().clean()


class ThrottledAuthenticationForm(ThrottledFormMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledFormMixin, AdminAuthenticationForm):
    pass


@method_decorator(signin_throttle.with_refusal_status, name="dispatch")
class ThrottledLoginView(auth_views.LoginView):
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True
