from django import forms

from lib.errors import RuleError
from tokens import permissions as perms
from tokens.services import NAME_MAX_LENGTH, clean_name

EXPIRY_CHOICES = [
    ("", "No expiration"),
    ("7", "7 days"),
    ("30", "30 days"),
    ("60", "60 days"),
    ("90", "90 days"),
    ("365", "1 year"),
]
PERMISSION_CHOICES = [(name, f"{name} — {label}") for name, label in perms.PERMISSIONS.items()]


class _LabelledTokenForm(forms.Form):
    """The token label is cleaned by the same rule as the service applies."""

    def clean_name(self) -> str:
        try:
            return clean_name(self.cleaned_data["name"])
        except RuleError as error:
            raise forms.ValidationError(error.message) from None


class PersonalTokenForm(_LabelledTokenForm):
    name = forms.CharField(
        label="Label",
        max_length=NAME_MAX_LENGTH,
        strip=True,
        help_text="What is this token for? e.g. “deploy script on my laptop”.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    expires_in_days = forms.TypedChoiceField(
        label="Expiration",
        choices=EXPIRY_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )
    permissions = forms.MultipleChoiceField(
        label="Permissions",
        choices=PERMISSION_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=sorted(perms.DEFAULT_PERMISSIONS),
        error_messages={"required": "Choose at least one permission."},
    )

    def clean_permissions(self) -> frozenset[str]:
        return perms.normalize(self.cleaned_data["permissions"])


def _expiry_choices(limit_days: int | None) -> list[tuple[str, str]]:
    if limit_days is None:
        return EXPIRY_CHOICES
    allowed = [(v, label) for v, label in EXPIRY_CHOICES if v and int(v) < limit_days]
    return [*allowed, (str(limit_days), f"{limit_days} days (the organization's maximum)")]


class CITokenForm(_LabelledTokenForm):
    name = forms.CharField(
        label="Label",
        max_length=NAME_MAX_LENGTH,
        help_text="Where is it used? e.g. “GitHub Actions: acme/web”.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    description = forms.CharField(
        label="Description (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    role = forms.ChoiceField(
        label="Role",
        choices=list(perms.ROLE_LABELS.items()),
        initial="ci",
        help_text="CI token: read projects and create deployments. Custom: pick permissions below.",
    )
    permissions = forms.MultipleChoiceField(
        label="Permissions (custom role)",
        choices=PERMISSION_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    expires_in_days = forms.TypedChoiceField(
        label="Expiration", coerce=int, empty_value=None, required=False
    )

    def __init__(self, *args, limit_days: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = _expiry_choices(limit_days)
        self.fields["expires_in_days"].choices = choices
        if limit_days is not None:
            self.fields["expires_in_days"].required = True
            self.fields["expires_in_days"].initial = choices[-1][0]

    def clean(self) -> dict:
        cleaned = super().clean()
        role = cleaned.get("role")
        if role == perms.CUSTOM_ROLE:
            chosen = perms.normalize(cleaned.get("permissions") or [])
            if not chosen:
                self.add_error("permissions", "Pick at least one permission for a custom role.")
            cleaned["granted"] = chosen
        elif role:
            cleaned["granted"] = perms.for_role(role)
        return cleaned
