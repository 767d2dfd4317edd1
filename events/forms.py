from django import forms

from events.models import EVENT_TYPES


class EndpointForm(forms.Form):
    url = forms.URLField(
        label="Endpoint URL",
        max_length=500,
        assume_scheme="https",
        help_text="HTTPS; Tokendesk POSTs each event there as JSON, signed.",
    )
    description = forms.CharField(label="Description", max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label="Events",
        choices=[(name, f"{name} — {label}") for name, label in EVENT_TYPES.items()],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event."},
    )


class EndpointEditForm(EndpointForm):
    is_active = forms.BooleanField(label="Active (deliver events to this endpoint)", required=False)
