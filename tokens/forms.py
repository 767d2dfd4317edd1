from django import forms

from lib.errors import RuleError
from tokens import allowlist
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
# What a new token's expiry starts at in the dialogs: a choice, never "No expiration".
DEFAULT_EXPIRY = "30"
PERMISSION_CHOICES = [(name, f"{name} — {label}") for name, label in perms.PERMISSIONS.items()]


class _LabelledTokenForm(forms.Form):
    """The token label is cleaned by the same rule as the service applies."""

    def clean_name(self) -> str:
        try:
            return clean_name(self.cleaned_data["name"])
        except RuleError as error:
            raise forms.ValidationError(error.message) from None


class _AllowlistField(forms.Form):
    allowed_ips = forms.CharField(
        label="Allowed IP addresses (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text="One IPv4/IPv6 address or CIDR range per line, up to 20, e.g. "
        "203.0.113.0/24. Requests from anywhere else are refused. Empty: anywhere.",
    )

    def clean_allowed_ips(self) -> list[str]:
        try:
            return allowlist.clean(allowlist.split_lines(self.cleaned_data["allowed_ips"]))
        except RuleError as error:
            raise forms.ValidationError(error.message) from None


class PersonalTokenForm(_AllowlistField, _LabelledTokenForm):
    name = forms.CharField(
        label="Name",
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
        initial=DEFAULT_EXPIRY,
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


class _ExpiryChoice(forms.Form):
    """An expiry select within the organization's limit (no "No expiration" under one),
    starting at 30 days, or at the limit when that is shorter."""

    expires_in_days = forms.TypedChoiceField(
        label="Expiration", coerce=int, empty_value=None, required=False
    )

    def __init__(self, *args, limit_days: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = _expiry_choices(limit_days)
        field = self.fields["expires_in_days"]
        field.choices = choices
        values = [value for value, _ in choices]
        field.initial = DEFAULT_EXPIRY if DEFAULT_EXPIRY in values else values[-1]
        if limit_days is not None:
            field.required = True


class CITokenForm(_AllowlistField, _ExpiryChoice, _LabelledTokenForm):
    name = forms.CharField(
        label="Name",
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


OVERLAP_CHOICES = [("1", "1 hour"), ("24", "24 hours"), ("168", "7 days")]


class RotateForm(forms.Form):
    overlap_hours = forms.TypedChoiceField(
        label="Keep the current secret working for",
        choices=OVERLAP_CHOICES,
        coerce=int,
        initial="24",
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose 1 hour, 24 hours or 7 days."},
    )
    until_first_use = forms.BooleanField(
        label="…or until the new secret is first used, if that comes first",
        required=False,
    )


class DeploymentTokenForm(_AllowlistField, _ExpiryChoice):
    name = forms.CharField(
        label="Name (optional)",
        max_length=NAME_MAX_LENGTH,
        required=False,
        help_text="Where is it used? Left empty: “<project> deploy <date and time>”.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Left out (a POST from a script): the organization's maximum, or no expiry.
        self.fields["expires_in_days"].required = False

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())
