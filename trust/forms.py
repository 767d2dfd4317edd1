from django import forms
from django.conf import settings

from tokens import permissions as perms
from trust import services
from trust.models import PROVIDERS

CLAIM_FIELDS = ("repository", "project_path", "ref", "environment", "workflow_ref")
CLAIM_HELP = {
    "repository": "GitHub: owner/name, e.g. acme/web. Required for GitHub Actions.",
    "project_path": "GitLab: group/project, e.g. acme/web. Required for GitLab.",
    "ref": "GitHub: refs/heads/main; GitLab: main. Empty: any ref.",
    "environment": "The deployment environment the job runs in. Empty: any.",
    "workflow_ref": "GitHub: owner/name/.github/workflows/deploy.yml@refs/heads/main.",
}


class TrustedPublisherForm(forms.Form):
    issuer = forms.ChoiceField(label="Issuer")
    audience = forms.CharField(
        label="Audience",
        max_length=services.VALUE_MAX_LENGTH,
        help_text="The aud the ID token must carry; the CLI asks for this server's address.",
    )
    repository = forms.CharField(label="Repository", required=False)
    project_path = forms.CharField(label="Project path", required=False)
    ref = forms.CharField(label="Ref", required=False)
    environment = forms.CharField(label="Environment", required=False)
    workflow_ref = forms.CharField(label="Workflow ref", required=False)
    # The whole vocabulary, so a hand-made POST meets the domain's own refusal; the page
    # offers only what a deployment token may hold.
    permissions = forms.MultipleChoiceField(
        label="Permissions",
        choices=list(perms.PERMISSIONS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    lifetime_minutes = forms.IntegerField(
        label="Lifetime (minutes)",
        help_text=f"{services.MIN_LIFETIME_MINUTES} to {services.MAX_LIFETIME_MINUTES}.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["issuer"].choices = [
            (url, f"{PROVIDERS[kind]} ({url})")
            for url, kind in settings.TRUSTED_PUBLISHER_ISSUERS.items()
        ]
        for name in CLAIM_FIELDS:
            self.fields[name].max_length = services.VALUE_MAX_LENGTH
            self.fields[name].help_text = CLAIM_HELP[name]

    def claim_fields(self) -> list:
        return [self[name] for name in CLAIM_FIELDS]

    @classmethod
    def initial_for(cls, policy=None) -> dict:
        if policy is None:
            return {
                "audience": services.default_audience(),
                "permissions": sorted(services.DEFAULT_PERMISSIONS),
                "lifetime_minutes": services.DEFAULT_LIFETIME_MINUTES,
            }
        return {
            "issuer": policy.issuer,
            "audience": policy.audience,
            "permissions": policy.permissions,
            "lifetime_minutes": policy.lifetime_minutes,
            **policy.conditions,
        }

    def policy_fields(self) -> services.PolicyFields:
        """The checked policy, or RuleError naming the field (the caller adds it here)."""
        data = self.cleaned_data
        return services.clean_policy(
            issuer=data["issuer"],
            audience=data["audience"],
            conditions={name: data[name] for name in CLAIM_FIELDS},
            permissions=data["permissions"],
            lifetime_minutes=data["lifetime_minutes"],
        )
