from datetime import UTC, date, datetime, time, timedelta

from django import forms
from django.contrib.auth import password_validation

from accounts.models import User
from lib.ids import MAX_ID, ModelIdsField
from orgs.audit import ACTIONS
from orgs.models import Membership, Project, current_action


class ProjectCreateForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=100, widget=forms.TextInput(attrs={"autofocus": True})
    )
    slug = forms.SlugField(
        label="Slug",
        max_length=50,
        required=False,
        help_text="Used in URLs and as ORG/PROJECT in the CLI. Empty: derived from the name.",
    )


class ProjectEditForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100)
    maintainers = ModelIdsField(
        label="Maintainers",
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Members who may generate and delete this project's deployment tokens.",
    )
    # The second step when a removed maintainer created deployment tokens: the confirmation
    # was shown, and whether to revoke those tokens too.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
    revoke_credentials = forms.BooleanField(required=False)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["maintainers"].queryset = User.objects.filter(
            memberships__organization=organization
        ).order_by("email")


class MemberAddForm(forms.Form):
    email = forms.EmailField(label="E-mail", widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(
        label="Role", choices=Membership.Role.choices, initial=Membership.Role.MEMBER
    )


class InviteForm(forms.Form):
    email = forms.EmailField(
        label="E-mail", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    role = forms.ChoiceField(
        label="Role", choices=Membership.Role.choices, initial=Membership.Role.MEMBER
    )
    projects = ModelIdsField(
        label="Maintainer of",
        queryset=Project.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Members only: projects whose deployment tokens they will manage.",
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["projects"].queryset = Project.objects.filter(organization=organization)


class AcceptInvitationForm(forms.Form):
    """A new person's password. Django's validators run against an unsaved user with the
    invited address, so the similarity check sees the e-mail."""

    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "autofocus": True}),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict:
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            try:
                password_validation.validate_password(first, User(email=self.email))
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Membership.Role.choices)


class ActionField(forms.ChoiceField):
    """An audit action; a former name (an old bookmark's) reads as its current one."""

    def to_python(self, value) -> str:
        return current_action(super().to_python(value))


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label="Actor", required=False, max_length=200)
    action = ActionField(label="Action", required=False)
    token = forms.CharField(label="Token", required=False, max_length=200)
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    before = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, widget=forms.HiddenInput
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "Any action"), *ACTIONS.items()]

    def clean(self) -> dict:
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "“To” must be on or after “From”.")
        return cleaned

    def filters(self) -> dict:
        """Keyword arguments for AuditEvent.objects.matching(); dates are whole UTC days."""
        data = self.cleaned_data
        return {
            "actor": data.get("actor", ""),
            "action": data.get("action", ""),
            "token": data.get("token", ""),
            "since": _day_start(data.get("since")),
            "until": _day_start(data.get("until"), plus_days=1),
        }


def _day_start(day, plus_days: int = 0):
    if day is None:
        return None
    if day > date.max - timedelta(days=plus_days):
        return None  # "up to the last day there is": no bound
    return datetime.combine(day + timedelta(days=plus_days), time.min, tzinfo=UTC)
