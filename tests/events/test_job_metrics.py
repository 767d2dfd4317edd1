"""/metrics shows the job queue: its depth and waiting time from the queue's table, and how
the jobs a worker ran ended."""

import signal
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from accounts.tasks import send_email

METRICS_TOKEN = "scrape-secret-0123456789"


@pytest.fixture
def scrape(client, settings):
    settings.METRICS_ENABLED = True
    settings.METRICS_TOKEN = METRICS_TOKEN
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

    def scrape() -> dict[tuple, float]:
        """(name, *label values in the labels' alphabetical order) → value."""
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
        assert response.status_code == 200
        return {
            (sample.name, *(value for _, value in sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.content.decode())
            for sample in family.samples
        }

    return scrape


def run_worker():
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command(
            "worker", "--batch", "--no-scheduler", "--no-startup-delay", "--interval=0",
            verbosity=0,
        )  # fmt: skip
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)


def finished(task: str, outcome: str) -> float:
    labels = {"task": task, "outcome": outcome}
    return REGISTRY.get_sample_value("tokendesk_jobs_finished_total", labels) or 0.0


def test_an_empty_queue(db, scrape):
    metrics = scrape()
    for state in ("due", "scheduled", "running", "failed"):
        assert metrics[("tokendesk_jobs", state)] == 0
    assert metrics[("tokendesk_jobs_oldest_due_age_seconds",)] == 0


def test_depth_waiting_time_and_jobs_scheduled_for_later(db, scrape, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    send_email("a@example.test", "One", "Body")
    time_machine.shift(timedelta(seconds=90))
    send_email("b@example.test", "Two", "Body")
    later = DBTaskResult.objects.latest("enqueued_at")
    later.run_after = timezone.now() + timedelta(minutes=10)
    later.save(update_fields=["run_after"])
    time_machine.shift(timedelta(seconds=30))

    metrics = scrape()
    assert metrics[("tokendesk_jobs", "due")] == 1
    assert metrics[("tokendesk_jobs", "scheduled")] == 1
    assert metrics[("tokendesk_jobs_oldest_due_age_seconds",)] == 120

    time_machine.shift(timedelta(minutes=10))
    metrics = scrape()
    assert metrics[("tokendesk_jobs", "due")] == 2
    assert metrics[("tokendesk_jobs", "scheduled")] == 0


def test_finished_jobs_are_counted_by_outcome(transactional_db, scrape, monkeypatch):
    mail_task = "accounts.tasks.deliver_email"
    succeeded, failed = finished(mail_task, "successful"), finished(mail_task, "failed")
    send_email("a@example.test", "Fine", "Body")
    run_worker()
    assert finished(mail_task, "successful") == succeeded + 1

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("no mail server")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    send_email("b@example.test", "Broken", "Body")
    run_worker()
    assert finished(mail_task, "failed") == failed + 1
    metrics = scrape()
    assert metrics[("tokendesk_jobs", "due")] == 0
    assert metrics[("tokendesk_jobs", "failed")] == 1
    assert metrics[("tokendesk_jobs_finished_total", "failed", mail_task)] >= 1
