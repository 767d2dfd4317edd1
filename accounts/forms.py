from allauth.account.adapter import get_adapter
from allauth.core.internal import ratelimit
from allauth.mfa.base.forms import ReauthenticateForm as MFAReauthenticateForm
from allauth.mfa.models import Authenticator
from django import forms


class ReauthenticateForm(forms.Form):
    """Confirm who you are: your password or, with 2FA, a code from your authenticator app
    (or a recovery code). Wrong answers count against the account's sign-in attempts."""

    password = forms.CharField(
        label="Password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        label="Or a two-factor code",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, *args, request, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.user = user = request.user
        self.method: str | None = None
        self.mfa_form: MFAReauthenticateForm | None = None
        self.has_codes = (
            Authenticator.objects.filter(user=user)
            .exclude(type=Authenticator.Type.WEBAUTHN)
            .exists()
        )
        if not self.has_codes:
            del self.fields["code"]

    def clean(self) -> dict:
        data = super().clean()
        password, code = data.get("password"), data.get("code")
        adapter = get_adapter()
        if code and self.has_codes:
            mfa_form = MFAReauthenticateForm({"code": code}, user=self.user)
            if not mfa_form.is_valid():
                self.add_error("code", mfa_form.errors.get("code"))
                return data
            self.mfa_form, self.method = mfa_form, "mfa"
            return data
        if not password:
            self.add_error("password", "Enter your password.")
            return data
        usage = ratelimit.consume(
            self.request, app="allauth.account", action="reauthenticate", user=self.user
        )
        if not usage:
            raise adapter.validation_error("too_many_login_attempts")
        if not self.user.check_password(password):
            self.add_error("password", "That is not your password.")
            return data
        usage.rollback()
        self.method = "password"
        return data
