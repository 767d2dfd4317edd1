from django import forms

from lib.errors import RuleError
from lib.limits import MAX_TOKEN_LIFETIME_DAYS
from orgs import lifecycle
from orgs.lifecycle import IDLE_DAYS_MAX, IDLE_DAYS_MIN, Policy
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


def _expiry_choices(limit_days: int | None, required: bool = False) -> list[tuple[str, str]]:
    if limit_days is None:
        return [(v, label) for v, label in EXPIRY_CHOICES if v or not required]
    allowed = [(v, label) for v, label in EXPIRY_CHOICES if v and int(v) < limit_days]
    return [*allowed, (str(limit_days), f"{limit_days} days (the organization's maximum)")]


class _ExpiryChoice(forms.Form):
    """An expiry select within the organization's limit, starting at 30 days, or at the limit
    when that is shorter. No "No expiration" where the organization sets a limit or requires
    an expiry (`expiry_required`)."""

    expires_in_days = forms.TypedChoiceField(
        label="Expiration",
        coerce=int,
        empty_value=None,
        required=False,
        error_messages={"required": "Choose an expiration: this organization requires one."},
    )

    def __init__(
        self, *args, limit_days: int | None = None, expiry_required: bool = False, **kwargs
    ):
        super().__init__(*args, **kwargs)
        choices = _expiry_choices(limit_days, expiry_required)
        field = self.fields["expires_in_days"]
        field.choices = choices
        values = [value for value, _ in choices]
        field.initial = DEFAULT_EXPIRY if DEFAULT_EXPIRY in values else values[-1]
        if limit_days is not None or expiry_required:
            field.required = True


class CITokenForm(_AllowlistField, _ExpiryChoice, _LabelledTokenForm):
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
        label="Label (optional)",
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


class LifecyclePolicyForm(forms.Form):
    """The organization's token lifecycle policy (orgs/lifecycle.py checks the values too)."""

    require_expiry = forms.BooleanField(
        label="Require an expiration",
        required=False,
        help_text="New CI and deployment tokens must expire; personal tokens without an "
        "expiration are refused on this organization.",
    )
    max_lifetime_days = forms.IntegerField(
        label="Maximum token lifetime (days)",
        required=False,
        min_value=1,
        max_value=MAX_TOKEN_LIFETIME_DAYS,
        widget=forms.NumberInput(attrs={"placeholder": "No limit"}),
        help_text="CI and deployment tokens: new ones, resets and rotations. Personal tokens "
        "that live longer are refused on this organization. Empty: no limit.",
    )
    idle_revoke_days = forms.IntegerField(
        label="Revoke tokens unused for (days)",
        required=False,
        min_value=IDLE_DAYS_MIN,
        max_value=IDLE_DAYS_MAX,
        widget=forms.NumberInput(attrs={"placeholder": "Never"}),
        help_text=f"{IDLE_DAYS_MIN} to {IDLE_DAYS_MAX} days; whoever answers for the token is "
        "e-mailed 7 days before. Empty: never.",
    )
    # The second step of a stricter policy: the list of affected tokens was shown.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def policy(self) -> Policy:
        data = self.cleaned_data
        return lifecycle.clean(
            require_expiry=data["require_expiry"],
            max_lifetime_days=data["max_lifetime_days"],
            idle_revoke_days=data["idle_revoke_days"],
        )
