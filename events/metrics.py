"""The job queue's metrics for /metrics (config/metrics.py): what waits in the queue's table,
read at each scrape, and how the jobs a worker ran ended, counted in the worker.

The worker is its own process: its counts reach /metrics only when it and gunicorn share
PROMETHEUS_MULTIPROC_DIR (docs/production.md). The queue's table is read by every instance
alike, so its gauges need nothing shared."""

import logging

from django.db import DatabaseError
from django.db.models import Case, Count, F, Min, Q, When
from django.dispatch import receiver
from django.utils import timezone
from django_tasks.signals import task_finished
from django_tasks_db.models import DBTaskResult, get_date_max
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

JOBS_FINISHED = Counter(
    "tokendesk_jobs_finished",
    "Jobs a worker finished, by task and outcome (successful or failed).",
    ["task", "outcome"],
)


@receiver(task_finished)
def count_finished_job(sender, *, task_result, **kwargs) -> None:
    outcome = "failed" if task_result.status == "FAILED" else "successful"
    JOBS_FINISHED.labels(task_result.task.module_path, outcome).inc()


class JobQueueCollector:
    """Gauges from the queue's table: jobs due now (the queue's depth), jobs waiting for a
    later time (webhook retries), jobs running, failed jobs still kept, and how long the
    oldest due job has waited."""

    def describe(self):
        # Registering asks for the names; answering them here keeps the database out of it.
        return [
            GaugeMetricFamily("tokendesk_jobs", "", labels=["state"]),
            GaugeMetricFamily("tokendesk_jobs_oldest_due_age_seconds", ""),
        ]

    def collect(self):
        now, unscheduled = timezone.now(), get_date_max()
        # A job enqueued to run as soon as possible carries the largest date as run_after.
        due = Q(status="READY") & (Q(run_after=unscheduled) | Q(run_after__lte=now))
        waiting_since = Case(
            When(run_after=unscheduled, then=F("enqueued_at")), default=F("run_after")
        )
        try:
            counts = DBTaskResult.objects.aggregate(
                due=Count("pk", filter=due),
                scheduled=Count(
                    "pk", filter=Q(status="READY", run_after__gt=now) & ~Q(run_after=unscheduled)
                ),
                running=Count("pk", filter=Q(status="RUNNING")),
                failed=Count("pk", filter=Q(status="FAILED")),
                oldest_due=Min(waiting_since, filter=due),
            )
        except DatabaseError:
            logger.warning("The job queue's table could not be read for /metrics", exc_info=True)
            return
        jobs = GaugeMetricFamily(
            "tokendesk_jobs",
            "Jobs in the queue's table by state: due (the queue's depth), scheduled for "
            "later, running, failed (kept for a week).",
            labels=["state"],
        )
        for state in ("due", "scheduled", "running", "failed"):
            jobs.add_metric([state], counts[state])
        yield jobs
        oldest = counts["oldest_due"]
        yield GaugeMetricFamily(
            "tokendesk_jobs_oldest_due_age_seconds",
            "How long the oldest due job has waited for a worker (0 when none waits).",
            value=(now - oldest).total_seconds() if oldest else 0.0,
        )
