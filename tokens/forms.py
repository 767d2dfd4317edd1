from django import forms

from tokens import permissions as perms
from tokens.services import NAME_MAX_LENGTH, TokenRuleError, clean_name

EXPIRY_CHOICES = [
    ("", "No expiration"),
    ("7", "7 days"),
    ("30", "30 days"),
    ("60", "60 days"),
    ("90", "90 days"),
    ("365", "1 year"),
]
PERMISSION_CHOICES = [(name, f"{name} — {label}") for name, label in perms.PERMISSIONS.items()]


class PersonalTokenForm(forms.Form):
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

    def clean_name(self) -> str:
        try:
            return clean_name(self.cleaned_data["name"])
        except TokenRuleError as error:
            raise forms.ValidationError(error.message) from None

    def clean_permissions(self) -> frozenset[str]:
        return perms.normalize(self.cleaned_data["permissions"])
