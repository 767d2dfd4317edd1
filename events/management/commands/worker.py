"""`manage.py worker`: django-tasks-db's database worker plus the scheduler.

Runs queued jobs (e-mails, webhook deliveries) as `db_worker` does, and in a thread beside
it the scheduled work (events/scheduler.py) every SCHEDULER_INTERVAL_SECONDS. Run as many as
you like: every job and every scheduled piece is claimed by one of them."""

import logging
import threading

from django.conf import settings
from django.db import close_old_connections
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorker

from events import scheduler

logger = logging.getLogger("events.worker")


def _schedule_forever(interval: float, stop: threading.Event) -> None:
    while not stop.is_set():
        close_old_connections()
        done = scheduler.tick()
        if any(done.values()):
            logger.info("Scheduled work: %s", done)
        stop.wait(interval)


class Command(DatabaseWorker):
    help = "Run background jobs (e-mails, webhook deliveries) and the scheduled work."

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--no-scheduler",
            action="store_false",
            dest="scheduler",
            help="Only run queued jobs, not the scheduled work.",
        )
        # The scheduler thread and the autoreloader's parent process do not mix.
        parser.set_defaults(reload=False)

    def handle(self, *args, scheduler: bool = True, **options) -> None:
        if scheduler:
            interval = settings.SCHEDULER_INTERVAL_SECONDS
            stop = threading.Event()
            threading.Thread(
                target=_schedule_forever, args=(interval, stop), name="scheduler", daemon=True
            ).start()
        super().handle(*args, **options)
