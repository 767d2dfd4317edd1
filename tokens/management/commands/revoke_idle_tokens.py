from django.core.management.base import BaseCommand

from tokens.lifecycle import revoke_idle_tokens


class Command(BaseCommand):
    help = (
        "Apply the organizations' idle-token policy: e-mail about tokens that will be revoked "
        "in 7 days for being unused, and revoke those warned 7 days ago and still unused. "
        "Safe to run from cron every minute on several hosts (each token is warned once and "
        "revoked once); `manage.py worker` already runs it every minute."
    )

    def handle(self, *args, **options) -> None:
        run = revoke_idle_tokens()
        self.stdout.write(
            f"Warned about {run.warned} idle token{'s' if run.warned != 1 else ''}; "
            f"revoked {run.revoked}."
        )
