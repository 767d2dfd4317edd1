from django.core.management.base import BaseCommand

from tokens.notifications import notify_expiring_tokens


class Command(BaseCommand):
    help = (
        "Queue e-mails to the owners of tokens expiring within 7 days (once per token). "
        "`manage.py worker` sends them, and already runs this itself every minute."
    )

    def handle(self, *args, **options) -> None:
        sent = notify_expiring_tokens()
        self.stdout.write(f"Sent {sent} expiry notice{'s' if sent != 1 else ''}.")
