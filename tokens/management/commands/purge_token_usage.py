from django.conf import settings
from django.core.management.base import BaseCommand

from tokens.usage import purge


class Command(BaseCommand):
    help = (
        "Delete token usage counters older than TOKENDESK_USAGE_RETENTION_DAYS (90 by default). "
        "Safe to run any number of times; `manage.py worker` already runs it every minute."
    )

    def handle(self, *args, **options) -> None:
        deleted = purge()
        days = settings.TOKENDESK_USAGE_RETENTION_DAYS
        self.stdout.write(
            f"Deleted {deleted} usage counter{'s' if deleted != 1 else ''} older than {days} days."
        )
